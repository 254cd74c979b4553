"""The embedded PostgreSQL (pgserver) used when no DATABASE_URL is given."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import time; without XDG_RUNTIME_DIR
    # (containers, CI, cron) that warns on every command, although the fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from pgserver.postgres_server import get_server

log = logging.getLogger(__name__)

DATABASE_NAME = "backoffice"


class EmbeddedPostgres:
    """A real PostgreSQL server in `data_dir/pgdata`, listening only on a Unix socket.

    Data survives a restart; `stop()` shuts the server down cleanly (fast shutdown, checkpoint).
    """

    def __init__(self, data_dir: Path, database: str = DATABASE_NAME) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = get_server(data_dir / "pgdata", cleanup_mode="stop")
        self._ensure_database(database)
        self.url: str = self._server.get_uri(database=database)
        log.info("embedded postgres ready", extra={"pgdata": str(data_dir / "pgdata")})

    def _ensure_database(self, database: str) -> None:
        # `database` is our own constant, never user input.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608
        exists = self._server.psql(query)
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{database}";')

    def stop(self) -> None:
        self._server.cleanup()
        log.info("embedded postgres stopped")

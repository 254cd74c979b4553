"""The embedded PostgreSQL (pgserver) used when no DATABASE_URL is given."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

import psutil

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import time; without XDG_RUNTIME_DIR
    # (containers, CI, cron) that warns on every command, although the fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from pgserver.postgres_server import PostgresServer, get_server

log = logging.getLogger(__name__)

DATABASE_NAME = "backoffice"

# pgserver (0.1.4) lets several processes share one server: each adds its pid to this JSON list
# in pgdata, and the one that removes the last pid stops PostgreSQL. A process that dies without
# removing its pid (kill -9, OOM killer, power loss) stays on the list for good, so every later
# clean stop saw "someone else still uses it" and left PostgreSQL running. pgserver has no hook
# for this, so before leaving we drop the pids of processes that are gone, under the same
# inter-process lock pgserver takes around the list (`PostgresServer._lock`). These two names are
# the only pgserver internals we rely on; tests/platform/test_cli_embedded.py fails if they change.
_PGSERVER_HANDLES = ".handle_pids.json"
# Ours, beside it: when each process on that list started (seconds after boot, which clock changes
# do not move), so a pid the kernel has since given to an unrelated process does not count
# either. Pids are reused soon where pid_max is small (32768 in many containers).
_HANDLE_STARTS = ".backoffice_handle_starts.json"
_START_TOLERANCE_SECONDS = 0.5


def pgdata_dir(data_dir: Path) -> Path:
    """Where the embedded server keeps its data inside the data directory."""
    return data_dir.expanduser().resolve() / "pgdata"


def _started_after_boot(proc: psutil.Process) -> float:
    return proc.create_time() - psutil.boot_time()


def is_live_handle(pid: int, recorded_start: float | None) -> bool:
    """Whether `pid` still is a process using the server: running, not a zombie, and (when its
    start was recorded) the same process that registered, not a later one with a reused pid."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        started = _started_after_boot(proc)
    except psutil.NoSuchProcess:  # also ZombieProcess
        return False
    except psutil.AccessDenied:
        return True  # it exists; when in doubt, keep the server up for it
    return recorded_start is None or abs(started - recorded_start) < _START_TOLERANCE_SECONDS


def _read_json(path: Path) -> object:
    """The file's JSON value; None when it is missing or unreadable (half-written by a kill)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        log.warning("unreadable embedded postgres handle file", extra={"path": str(path)})
        return None


def _write_json(path: Path, value: object) -> None:
    # Write-then-rename, so a kill in the middle never leaves a half-written file behind.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value))
    partial.replace(path)


class _Handles:
    """pgserver's list of processes using one server, with our record of when each started.

    Every method takes pgserver's lock; never call one while holding it (the lock is not
    re-entrant) or from inside a pgserver call.
    """

    def __init__(self, pgdata: Path) -> None:
        self._pids_file = pgdata / _PGSERVER_HANDLES
        self._starts_file = pgdata / _HANDLE_STARTS

    def _starts(self) -> dict[str, float]:
        raw = _read_json(self._starts_file)
        return {str(k): float(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def record_own_start(self) -> None:
        with PostgresServer._lock:
            starts = self._starts()
            starts[str(os.getpid())] = _started_after_boot(psutil.Process())
            _write_json(self._starts_file, starts)

    def forget_dead(self) -> list[int]:
        """Drop every pid whose process is gone; returns the pids still using the server."""
        with PostgresServer._lock:
            raw = _read_json(self._pids_file)
            pids = [int(p) for p in raw] if isinstance(raw, list) else []
            starts = self._starts()
            live = [pid for pid in pids if is_live_handle(pid, starts.get(str(pid)))]
            if live != raw and (raw is not None or self._pids_file.exists()):
                gone = sorted(set(pids) - set(live))
                log.info("forgot embedded postgres users that are gone", extra={"pids": gone})
                _write_json(self._pids_file, live)
            kept = {pid: start for pid, start in starts.items() if int(pid) in live}
            if kept != starts:
                _write_json(self._starts_file, kept)
            return live


class EmbeddedPostgres:
    """A real PostgreSQL server in `data_dir/pgdata`, listening only on a Unix socket.

    Processes on the same data directory share the server: the first starts it, the others join.
    Data survives a restart; `stop()` shuts the server down cleanly (fast shutdown, checkpoint)
    unless another live process still uses it. A process that died without stopping does not
    count, so a server it left behind is stopped by the next clean stop of anyone else.
    """

    def __init__(self, data_dir: Path, database: str = DATABASE_NAME) -> None:
        self.pgdata = pgdata_dir(data_dir)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._handles = _Handles(self.pgdata)
        self._handles.forget_dead()
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        try:
            self._handles.record_own_start()
            self._ensure_database(database)
        except BaseException:
            self.stop()
            raise
        self.url: str = self._server.get_uri(database=database)
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})

    def _ensure_database(self, database: str) -> None:
        # `database` is our own constant, never user input.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608
        exists = self._server.psql(query)
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{database}";')

    def stop(self) -> None:
        """Leave the server; stop it unless another live process still uses it."""
        others = [pid for pid in self._handles.forget_dead() if pid != os.getpid()]
        self._server.cleanup()
        self._handles.forget_dead()  # drops our own start record, now that pgserver let us go
        if others:
            log.info("embedded postgres left running for others", extra={"pids": others})
        else:
            log.info("embedded postgres stopped")

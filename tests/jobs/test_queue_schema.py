"""The job queue's schema is ours to migrate, and matches the procrastinate installed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import procrastinate

VENDORED = Path(__file__).resolve().parents[2] / "migrations" / "sql"


def test_the_migrated_queue_schema_is_the_installed_procrastinates() -> None:
    # A procrastinate upgrade changes its schema: its SQL migrations must become ours first.
    vendored = VENDORED / f"procrastinate_{procrastinate.__version__}_schema.sql"
    assert vendored.exists(), (
        f"procrastinate {procrastinate.__version__} has no migration of ours: add its SQL "
        "migrations (procrastinate/sql/migrations) as Alembic migrations and vendor its schema"
    )
    installed = resources.files("procrastinate").joinpath("sql", "schema.sql").read_text()
    assert vendored.read_text() == installed

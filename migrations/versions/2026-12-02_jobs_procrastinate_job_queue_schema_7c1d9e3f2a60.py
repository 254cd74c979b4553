"""jobs: the job queue's schema (procrastinate 3.10.0)

procrastinate's schema is ours to migrate: its SQL file for the pinned version is kept next
to the migrations (migrations/sql), so this migration builds the same schema whichever
procrastinate is installed. A procrastinate upgrade ships its own SQL migrations
(procrastinate/sql/migrations); each becomes a migration of ours, in their order.

Revision ID: 7c1d9e3f2a60
Revises: 5b8e2d41c7a9
Create Date: 2026-12-02 13:45:00
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op
from sqlalchemy.util import await_

revision: str = "7c1d9e3f2a60"
down_revision: str | Sequence[str] | None = "5b8e2d41c7a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parents[1] / "sql" / "procrastinate_3.10.0_schema.sql"


def _run_script(sql: str) -> None:
    # Many statements and dollar-quoted functions at once: asyncpg runs such a script whole
    # (the simple query protocol), in the migration's transaction.
    await_(op.get_bind().connection.driver_connection.execute(sql))


def upgrade() -> None:
    _run_script(SCHEMA.read_text())


def downgrade() -> None:
    _run_script(
        """
        DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
                   procrastinate_workers CASCADE;
        DO $$
        DECLARE f regprocedure;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || f;
            END LOOP;
        END $$;
        DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type,
                  procrastinate_job_status;
        """
    )

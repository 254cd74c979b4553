"""Accounting: the database keeps a fiscal year's row as the books left it. A closed year's
row is never changed or deleted (SQL cannot reopen it), an open year's counter never goes
back, and a year that has numbered entries is never deleted: the integrity check anchors each
year's chain on this row's last number and hash.

Revision ID: ce779e140f02
Revises: b95354cd58ad
Create Date: 2026-12-03 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ce779e140f02"
down_revision: str | Sequence[str] | None = "b95354cd58ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = """
CREATE FUNCTION accounting_fiscal_year_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'accounting_fiscal_year anchors the journal: TRUNCATE is not allowed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'fiscal year %: % is not allowed (closed, or its entries are numbered)',
        OLD.year, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.execute(_REFUSE)
    # The WHEN clauses run in C, so a posting pays nothing for the function it never calls.
    # A closed year's row may still be locked by a no-op update (periods.lock_year).
    op.execute(
        "CREATE TRIGGER accounting_fiscal_year_fixed_update BEFORE UPDATE"
        " ON accounting_fiscal_year FOR EACH ROW"
        " WHEN ((OLD.closed_at IS NOT NULL AND OLD.* IS DISTINCT FROM NEW.*)"
        " OR NEW.last_number < OLD.last_number)"
        " EXECUTE FUNCTION accounting_fiscal_year_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER accounting_fiscal_year_fixed_delete BEFORE DELETE"
        " ON accounting_fiscal_year FOR EACH ROW"
        " WHEN (OLD.closed_at IS NOT NULL OR OLD.last_number > 0)"
        " EXECUTE FUNCTION accounting_fiscal_year_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER accounting_fiscal_year_no_truncate BEFORE TRUNCATE"
        " ON accounting_fiscal_year FOR EACH STATEMENT"
        " EXECUTE FUNCTION accounting_fiscal_year_refuse_change()"
    )


def downgrade() -> None:
    for trigger in ("no_truncate", "fixed_delete", "fixed_update"):
        op.execute(f"DROP TRIGGER accounting_fiscal_year_{trigger} ON accounting_fiscal_year")
    op.execute("DROP FUNCTION accounting_fiscal_year_refuse_change()")

"""Accounting: journal entries and their lines, fiscal-year counters, closed periods and the
per-account balances the reports read.

GoBD in the database, not only in the API: posted entries and their lines cannot be changed
or deleted (triggers, because the app usually connects as the tables' owner), every entry
balances (a deferred constraint trigger, checked at commit), and each posted entry's hash
covers the previous one's.

Revision ID: 525ee45e5967
Revises: 8e01085bb703
Create Date: 2026-12-03 09:34:49.763081
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

IS_POSTED = """
CREATE FUNCTION accounting_journal_is_posted(entry uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
SELECT EXISTS (SELECT FROM accounting_journal_entry WHERE id = $1 AND status = 'posted')
$$
"""

REFUSE_CHANGE = """
CREATE FUNCTION accounting_journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION '% keeps posted journal entries: TRUNCATE is not allowed', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_TABLE_NAME = 'accounting_journal_entry' THEN
        IF TG_OP = 'INSERT' AND NEW.status = 'posted' THEN
            RAISE EXCEPTION 'journal entry %: an entry is stored as a draft, then posted', NEW.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.status = 'posted' THEN
            RAISE EXCEPTION 'journal entry % is posted: % is not allowed, reverse it', OLD.id, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF (TG_OP <> 'INSERT' AND accounting_journal_is_posted(OLD.entry_id))
       OR (TG_OP <> 'DELETE' AND accounting_journal_is_posted(NEW.entry_id)) THEN
        RAISE EXCEPTION 'the lines of a posted journal entry are fixed: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
"""

# At commit (deferred), once per changed entry or line: each entry concerned (a line moved
# from one entry to another concerns both), if it still exists, has at least two lines and
# they sum to zero (amounts are signed: debit positive).
CHECK_BALANCE = """
CREATE FUNCTION accounting_journal_check_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entries uuid[];
    entry uuid;
    lines integer;
    total numeric;
BEGIN
    IF TG_TABLE_NAME = 'accounting_journal_entry' THEN
        entries := ARRAY[NEW.id];
    ELSIF TG_OP = 'DELETE' THEN
        entries := ARRAY[OLD.entry_id];
    ELSIF TG_OP = 'UPDATE' AND OLD.entry_id <> NEW.entry_id THEN
        entries := ARRAY[OLD.entry_id, NEW.entry_id];
    ELSE
        entries := ARRAY[NEW.entry_id];
    END IF;
    FOREACH entry IN ARRAY entries LOOP
        PERFORM FROM accounting_journal_entry WHERE id = entry;
        CONTINUE WHEN NOT FOUND;
        SELECT count(*), coalesce(sum(amount), 0) INTO lines, total
          FROM accounting_journal_line WHERE entry_id = entry;
        IF lines < 2 OR total <> 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance: % lines, debits minus credits %',
                entry, lines, total
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$
"""

# The hash of a posted entry: SHA-256 (hex) over the previous entry's hash followed by the
# entry's canonical JSON (PostgreSQL's jsonb text form): its fiscal year, number, kind, dates,
# currency, document reference, text, source, the entry it reverses and its lines (account
# number, signed amount).
ENTRY_HASH = """
CREATE FUNCTION accounting_entry_hash(entry uuid, fiscal_year integer, number integer,
                                      previous text)
RETURNS text LANGUAGE sql STABLE AS $$
SELECT encode(sha256(convert_to($4 || jsonb_build_object(
         'fiscal_year', $2,
         'number', $3,
         'kind', e.kind,
         'posting_date', e.posting_date,
         'document_date', e.document_date,
         'currency', e.currency,
         'document_ref', e.document_ref,
         'text', e.text,
         'source_type', e.source_type,
         'source_id', e.source_id,
         'reverses_id', e.reverses_id,
         'lines', (SELECT jsonb_agg(jsonb_build_array(a.number, l.amount::text) ORDER BY l.line_no)
                     FROM accounting_journal_line l
                     JOIN accounting_account a ON a.id = l.account_id
                    WHERE l.entry_id = e.id))::text, 'UTF8')), 'hex')
  FROM accounting_journal_entry e
 WHERE e.id = $1
$$
"""
_JOURNAL = ("accounting_journal_entry", "accounting_journal_line")

revision: str = "525ee45e5967"
down_revision: str | Sequence[str] | None = "8e01085bb703"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounting_fiscal_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_accounting_fiscal_year_counter")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_accounting_fiscal_year")),
    )
    op.create_table(
        "accounting_daily_balance",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("debit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("credit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounting_account.id"],
            name=op.f("fk_accounting_daily_balance_account_id_accounting_account"),
        ),
        sa.PrimaryKeyConstraint("day", "account_id", name=op.f("pk_accounting_daily_balance")),
    )
    op.create_table(
        "accounting_journal_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("document_ref", sa.String(length=36), nullable=True),
        sa.Column("text", sa.String(length=60), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", sa.String(length=100), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_by", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)",
            name=op.f("ck_accounting_journal_entry_reversal_link"),
        ),
        sa.CheckConstraint(
            "(status = 'posted') = (number IS NOT NULL AND fiscal_year IS NOT NULL"
            " AND hash IS NOT NULL AND previous_hash IS NOT NULL AND posted_at IS NOT NULL)",
            name=op.f("ck_accounting_journal_entry_numbered_when_posted"),
        ),
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_accounting_journal_entry_currency_code")
        ),
        sa.CheckConstraint(
            "kind IN ('regular', 'reversal', 'opening')",
            name=op.f("ck_accounting_journal_entry_known_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'posted')", name=op.f("ck_accounting_journal_entry_known_status")
        ),
        sa.CheckConstraint(
            "(source_type IS NULL) = (source_id IS NULL)",
            name=op.f("ck_accounting_journal_entry_whole_source"),
        ),
        sa.ForeignKeyConstraint(
            ["fiscal_year"],
            ["accounting_fiscal_year.year"],
            name=op.f("fk_accounting_journal_entry_fiscal_year_accounting_fiscal_year"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["accounting_journal_entry.id"],
            name=op.f("fk_accounting_journal_entry_reverses_id_accounting_journal_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_journal_entry")),
        sa.UniqueConstraint(
            "fiscal_year", "number", name=op.f("uq_accounting_journal_entry_fiscal_year_number")
        ),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_accounting_journal_entry_reverses_id")),
    )
    op.create_index(
        "ix_accounting_journal_entry_posting_date",
        "accounting_journal_entry",
        ["posting_date"],
        unique=False,
    )
    op.create_index(
        "ix_accounting_journal_entry_source",
        "accounting_journal_entry",
        ["source_type", "source_id"],
        unique=False,
        postgresql_where=sa.text("source_type IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_accounting_journal_entry_updated_at"),
        "accounting_journal_entry",
        ["updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "accounting_monthly_balance",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("debit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("credit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounting_account.id"],
            name=op.f("fk_accounting_monthly_balance_account_id_accounting_account"),
        ),
        sa.PrimaryKeyConstraint("month", "account_id", name=op.f("pk_accounting_monthly_balance")),
    )
    op.create_table(
        "accounting_period",
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "(closed_at IS NULL) = (closed_by IS NULL)",
            name=op.f("ck_accounting_period_closed_by_whom"),
        ),
        sa.CheckConstraint(
            "extract(day FROM starts_on) = 1", name=op.f("ck_accounting_period_month_start")
        ),
        sa.ForeignKeyConstraint(
            ["fiscal_year"],
            ["accounting_fiscal_year.year"],
            name=op.f("fk_accounting_period_fiscal_year_accounting_fiscal_year"),
        ),
        sa.PrimaryKeyConstraint("starts_on", name=op.f("pk_accounting_period")),
    )
    op.create_table(
        "accounting_journal_line",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_accounting_journal_line_nonzero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounting_account.id"],
            name=op.f("fk_accounting_journal_line_account_id_accounting_account"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["accounting_journal_entry.id"],
            name=op.f("fk_accounting_journal_line_entry_id_accounting_journal_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "line_no", name=op.f("pk_accounting_journal_line")),
    )
    op.create_index(
        op.f("ix_accounting_journal_line_account_id"),
        "accounting_journal_line",
        ["account_id"],
        unique=False,
    )
    op.execute(IS_POSTED)
    op.execute(REFUSE_CHANGE)
    op.execute(CHECK_BALANCE)
    op.execute(ENTRY_HASH)
    for table in _JOURNAL:
        op.execute(
            f"CREATE TRIGGER {table}_fixed_when_posted BEFORE INSERT OR UPDATE OR DELETE"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION accounting_journal_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION accounting_journal_refuse_change()"
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT OR UPDATE OR DELETE"
            f" ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
            " EXECUTE FUNCTION accounting_journal_check_balance()"
        )


def downgrade() -> None:
    for table in _JOURNAL:
        for trigger in ("balanced", "no_truncate", "fixed_when_posted"):
            op.execute(f"DROP TRIGGER {table}_{trigger} ON {table}")
    op.execute("DROP FUNCTION accounting_entry_hash(uuid, integer, integer, text)")
    op.execute("DROP FUNCTION accounting_journal_check_balance()")
    op.execute("DROP FUNCTION accounting_journal_refuse_change()")
    op.execute("DROP FUNCTION accounting_journal_is_posted(uuid)")
    op.drop_index(
        op.f("ix_accounting_journal_line_account_id"), table_name="accounting_journal_line"
    )
    op.drop_table("accounting_journal_line")
    op.drop_table("accounting_period")
    op.drop_table("accounting_monthly_balance")
    op.drop_index(
        op.f("ix_accounting_journal_entry_updated_at"), table_name="accounting_journal_entry"
    )
    op.drop_index(
        "ix_accounting_journal_entry_source",
        table_name="accounting_journal_entry",
        postgresql_where=sa.text("source_type IS NOT NULL"),
    )
    op.drop_index("ix_accounting_journal_entry_posting_date", table_name="accounting_journal_entry")
    op.drop_table("accounting_journal_entry")
    op.drop_table("accounting_daily_balance")
    op.drop_table("accounting_fiscal_year")

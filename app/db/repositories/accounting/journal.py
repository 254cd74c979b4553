"""Queries for journal entries: storing drafts, posting (number, hash and balances in one
transaction) and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.accounting import Account, JournalEntry, JournalLine
from app.db.models.audit import AuditEvent
from app.db.prepared import Executor, Prepared, as_json, untruncated

_line = JournalLine.__table__.alias("l")
_account = Account.__table__.alias("a")
_reversal = JournalEntry.__table__.alias("r")
_LINES = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        "line_no", _line.c.line_no,
                        "account", _account.c.number,
                        "account_id", _account.c.id,
                        "side", case((_line.c.amount > 0, "debit"), else_="credit"),
                        # As text: JSON numbers would come back as floats.
                        "amount", cast(func.abs(_line.c.amount), Text),
                    ),
                    _line.c.line_no,
                )
            ),
            literal_column("'[]'::jsonb", JSONB),
        )
    )
    .select_from(_line.join(_account, _account.c.id == _line.c.account_id))
    .where(_line.c.entry_id == JournalEntry.id)
    .scalar_subquery()
    .label("lines")
)  # fmt: skip
_REVERSED_BY = (
    select(_reversal.c.id)
    .where(_reversal.c.reverses_id == JournalEntry.id)
    .scalar_subquery()
    .label("reversed_by_id")
)
_ENTRY_ROW = select(*JournalEntry.__table__.c, _LINES, _REVERSED_BY)
_BY_ID = Prepared(_ENTRY_ROW.where(JournalEntry.id == bindparam("entry_id")))
_ENTRIES = KeysetQuery(
    _ENTRY_ROW,
    stamp=JournalEntry.updated_at,
    ident=JournalEntry.id,
    filters={
        "status": lambda value: JournalEntry.status == value,
        "fiscal_year": lambda value: JournalEntry.fiscal_year == value,
        "source_type": lambda value: JournalEntry.source_type == value,
        "source_id": lambda value: JournalEntry.source_id == value,
    },
)
# What a booking is checked against, in one statement: the company (no row without one) and
# the accounts its lines name.
_BOOKING_CONTEXT = Prepared(
    text(
        """
        SELECT c.base_currency, c.fiscal_year_start_month, a.number, a.id, a.is_active
          FROM accounting_company c
          LEFT JOIN accounting_account a ON a.number = ANY(:numbers)
        """
    ).bindparams(bindparam("numbers", type_=ARRAY(untruncated(Account.__table__.c.number.type))))
)
_LINE_PARAMS = (
    bindparam("line_no", type_=ARRAY(SmallInteger())),
    bindparam("account_id", type_=ARRAY(Uuid())),
    bindparam("amount", type_=ARRAY(Numeric(18, 2))),
)
_INSERT = Prepared(
    text(
        """
        WITH year AS (
          INSERT INTO accounting_fiscal_year (year) VALUES (:fiscal_year) ON CONFLICT DO NOTHING
        ), entry AS (
          INSERT INTO accounting_journal_entry (
            id, status, kind, currency, document_date, posting_date, document_ref, text,
            source_type, source_id, reverses_id, created_by)
          VALUES (
            :id, 'draft', :kind, :currency, :document_date, :posting_date, :document_ref,
            :text, :source_type, :source_id, :reverses_id, :created_by)
          RETURNING *
        ), lines AS (
          INSERT INTO accounting_journal_line (entry_id, line_no, account_id, amount)
          SELECT entry.id, l.* FROM entry, unnest(:line_no, :account_id, :amount) AS l
        )
        SELECT * FROM entry
        """
    ).bindparams(
        *(
            bindparam(c.name, type_=untruncated(c.type))
            for c in JournalEntry.__table__.c
            if c.name
            in (
                "id", "kind", "currency", "document_date", "posting_date", "document_ref",
                "text", "source_type", "source_id", "reverses_id", "created_by",
            )
        ),
        *_LINE_PARAMS,
        bindparam("fiscal_year", type_=Integer()),
    )
)  # fmt: skip
_REPLACE_DRAFT = Prepared(
    text(
        """
        WITH entry AS (
          UPDATE accounting_journal_entry
             SET currency = :currency, document_date = :document_date,
                 posting_date = :posting_date, document_ref = :document_ref, text = :text,
                 source_type = :source_type, source_id = :source_id,
                 version = version + 1, updated_at = now()
           WHERE id = :id AND status = 'draft'
          RETURNING id
        ), gone AS (
          DELETE FROM accounting_journal_line WHERE entry_id IN (SELECT id FROM entry)
        )
        SELECT 1
        """
    ).bindparams(
        *(
            bindparam(c.name, type_=untruncated(c.type))
            for c in JournalEntry.__table__.c
            if c.name
            in (
                "id", "currency", "document_date", "posting_date", "document_ref", "text",
                "source_type", "source_id",
            )
        ),
    )
)  # fmt: skip
_ADD_LINES = Prepared(
    text(
        """
        INSERT INTO accounting_journal_line (entry_id, line_no, account_id, amount)
        SELECT :entry_id, l.* FROM unnest(:line_no, :account_id, :amount) AS l
        """
    ).bindparams(bindparam("entry_id", type_=Uuid()), *_LINE_PARAMS)
)
_LOCK_DRAFT = Prepared(
    text(
        "SELECT status, version, posting_date FROM accounting_journal_entry"
        " WHERE id = :entry_id FOR UPDATE"
    ).bindparams(bindparam("entry_id", type_=Uuid()))
)
_DELETE_DRAFT = Prepared(
    text(
        "DELETE FROM accounting_journal_entry WHERE id = :entry_id AND status = 'draft'"
    ).bindparams(bindparam("entry_id", type_=Uuid()))
)
_ENSURE_YEAR = Prepared(
    text(
        "INSERT INTO accounting_fiscal_year (year) VALUES (:fiscal_year) ON CONFLICT DO NOTHING"
    ).bindparams(bindparam("fiscal_year", type_=Integer()))
)
# The year's counter row, locked until commit: postings into one fiscal year take turns from
# here on, which keeps the numbers gap-free and the hash chain a line. FOR UPDATE reads the
# row as it is once the lock is ours (a concurrent posting's number and hash, a month closed
# meanwhile), whatever the statement's snapshot; no row when the year or the month is closed.
_POSTED = """
        year AS (
          SELECT last_number, last_hash FROM accounting_fiscal_year
           WHERE year = :fiscal_year AND closed_at IS NULL AND NOT (:month = ANY (closed_months))
             -- A later year's closing carried the balances forward: none may change before it.
             AND NOT EXISTS (SELECT FROM accounting_fiscal_year later
                              WHERE later.year > :fiscal_year AND later.closed_at IS NOT NULL)
             FOR UPDATE OF accounting_fiscal_year
        ), counted AS (
          UPDATE accounting_fiscal_year y
             SET last_number = year.last_number + 1,
                 last_hash = accounting_entry_hash(
                   :entry_id, :fiscal_year, year.last_number + 1, year.last_hash)
            FROM year
           WHERE y.year = :fiscal_year
          RETURNING y.last_number AS number, y.last_hash AS hash, year.last_hash AS previous
        ), posted AS (
          UPDATE accounting_journal_entry e
             SET status = 'posted', fiscal_year = :fiscal_year, number = counted.number,
                 previous_hash = counted.previous, hash = counted.hash,
                 posted_at = now(), posted_by = :posted_by,
                 version = e.version + 1, updated_at = now()
            FROM counted
           WHERE e.id = :entry_id AND e.status = 'draft'
          RETURNING e.*
        )
"""
_BALANCES = """
        , moved AS (
          SELECT l.account_id,
                 coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0) AS debit,
                 coalesce(-sum(l.amount) FILTER (WHERE l.amount < 0), 0) AS credit
            FROM accounting_journal_line l JOIN posted ON l.entry_id = posted.id
           GROUP BY l.account_id
        ), monthly AS (
          INSERT INTO accounting_monthly_balance AS b (month, account_id, debit, credit)
          SELECT :month, account_id, debit, credit FROM moved ORDER BY account_id
          ON CONFLICT (month, account_id)
          DO UPDATE SET debit = b.debit + excluded.debit, credit = b.credit + excluded.credit
        ), daily AS (
          INSERT INTO accounting_daily_balance AS b (day, account_id, debit, credit)
          SELECT :day, account_id, debit, credit FROM moved ORDER BY account_id
          ON CONFLICT (day, account_id)
          DO UPDATE SET debit = b.debit + excluded.debit, credit = b.credit + excluded.credit
        )
"""


# The audit event of the posting, in the same statement: the year's counter stays locked
# until commit, so every statement after the posting would make all postings wait longer
# (bench/ledger.py). Its `after` is the caller's view of the entry plus the number it got.
_AUDITED = """
        , audited AS (
          INSERT INTO audit_event (id, actor, action, resource_type, resource_id, before, after,
                                   request_id)
          SELECT :audit_id, :posted_by, :audit_action, 'accounting_journal_entry',
                 posted.id::text, NULL,
                 CAST(:audit_after AS jsonb) || jsonb_build_object(
                   'status', posted.status, 'fiscal_year', posted.fiscal_year,
                   'number', posted.number),
                 :request_id
            FROM posted
        )
"""


def post_statement(*, keep_balances: bool = True) -> Prepared:
    """Numbers, hashes and posts a draft, adds its lines to the monthly and daily balances
    (`keep_balances=False`: not, for bench/ledger.py to measure what keeping them costs) and
    audits the posting. Returns the posted entry; nothing when its year or month is closed
    (or it is no draft)."""
    # Without the balances :day goes unused; the statement still takes it, so the call is alike.
    balances, final = (_BALANCES, "") if keep_balances else ("", "WHERE :day IS NOT NULL")
    sql = f"WITH {_POSTED} {balances} {_AUDITED} SELECT * FROM posted {final}"  # noqa: S608
    audit = AuditEvent.__table__.c
    return Prepared(
        text(sql).bindparams(
            bindparam("audit_id", type_=Uuid()),
            bindparam("audit_action", type_=untruncated(audit.action.type)),
            bindparam("audit_after", type_=Text()),
            bindparam("request_id", type_=untruncated(audit.request_id.type)),
            bindparam("entry_id", type_=Uuid()),
            bindparam("fiscal_year", type_=Integer()),
            bindparam("posted_by", type_=untruncated(JournalEntry.__table__.c.posted_by.type)),
            bindparam("month", type_=JournalEntry.__table__.c.posting_date.type),
            bindparam("day", type_=JournalEntry.__table__.c.posting_date.type),
        )
    )


_POST = post_statement()


_ID_CONSTRAINTS = frozenset(
    {"pk_accounting_journal_entry", "uq_accounting_journal_entry_reverses_id"}
)


def _constraint(exc: IntegrityError) -> str | None:
    return getattr(exc.orig, "constraint_name", None)


def _line_params(account_ids: Sequence[uuid.UUID], amounts: Sequence[Any]) -> dict[str, Any]:
    return {
        "line_no": list(range(1, len(amounts) + 1)),
        "account_id": list(account_ids),
        "amount": list(amounts),
    }


@dataclass(frozen=True, slots=True)
class BookingContext:
    base_currency: str
    fiscal_year_start_month: int
    accounts: dict[str, dict[str, Any]]  # by number: id, is_active


async def booking_context(session: AsyncSession, numbers: Sequence[str]) -> BookingContext | None:
    """The company's currency and fiscal year start, and the accounts of these numbers that
    exist; None when the company is not set up."""
    rows = await _BOOKING_CONTEXT.all(session, numbers=list(numbers))
    if not rows:
        return None
    accounts = {r["number"]: r for r in rows if r["number"] is not None}
    first = rows[0]
    return BookingContext(first["base_currency"], first["fiscal_year_start_month"], accounts)


class IdTaken(Exception):
    """An entry with this id exists, or one reversing the same entry."""


async def insert_draft(
    session: AsyncSession,
    values: dict[str, Any],
    account_ids: Sequence[uuid.UUID],
    amounts: Sequence[Any],
    fiscal_year: int,
) -> dict[str, Any]:
    """The entry, as a draft, with its lines (signed amounts), and the counter row of the
    fiscal year of its posting date, in one statement; the entry's columns."""
    params = values | _line_params(account_ids, amounts) | {"fiscal_year": fiscal_year}
    try:
        row = await _INSERT.one_or_none(session, **params)
    except IntegrityError as exc:
        if _constraint(exc) in _ID_CONSTRAINTS:
            raise IdTaken from exc
        raise
    assert row is not None
    return row


async def replace_draft(
    session: AsyncSession,
    values: dict[str, Any],
    account_ids: Sequence[uuid.UUID],
    amounts: Sequence[Any],
) -> None:
    """A draft's fields and all its lines (the caller holds its row lock)."""
    await _REPLACE_DRAFT.execute(session, **values)
    await _ADD_LINES.execute(session, entry_id=values["id"], **_line_params(account_ids, amounts))


async def lock_entry(session: AsyncSession, entry_id: uuid.UUID) -> dict[str, Any] | None:
    return await _LOCK_DRAFT.one_or_none(session, entry_id=entry_id)


async def delete_draft(session: AsyncSession, entry_id: uuid.UUID) -> None:
    await _DELETE_DRAFT.execute(session, entry_id=entry_id)


async def ensure_year(session: AsyncSession, fiscal_year: int) -> None:
    """The fiscal year's counter row exists (posting locks it)."""
    await _ENSURE_YEAR.execute(session, fiscal_year=fiscal_year)


@dataclass(frozen=True, slots=True)
class PostingAudit:
    """The audit event a posting writes: who (`posted_by`), which action, in which request,
    and the entry as the caller sees it (the number it gets is added)."""

    action: str
    after: dict[str, Any]
    request_id: str | None


async def post(
    session: AsyncSession,
    entry_id: uuid.UUID,
    *,
    fiscal_year: int,
    posted_by: str,
    day: date,
    audit: PostingAudit,
) -> dict[str, Any] | None:
    """Numbers, hashes and posts a draft, adds its lines to the balances and audits it,
    holding the year's counter until commit (the year's row must exist: `ensure_year`). The
    posted entry's columns; None, changing nothing, when its year or month is closed."""
    return await _POST.one_or_none(
        session,
        entry_id=entry_id,
        fiscal_year=fiscal_year,
        posted_by=posted_by,
        month=day.replace(day=1),
        day=day,
        audit_id=uuid.uuid4(),
        audit_action=audit.action,
        audit_after=as_json(audit.after),
        request_id=audit.request_id,
    )


async def entry_row(db: Executor, entry_id: uuid.UUID) -> dict[str, Any] | None:
    """The entry with its lines and the id of the entry reversing it, if any."""
    return await _BY_ID.one_or_none(db, entry_id=entry_id)


async def entry_rows(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    status: str | None,
    fiscal_year: int | None,
    source_type: str | None,
    source_id: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    return await _ENTRIES.page(
        reader,
        page,
        status=status,
        fiscal_year=fiscal_year,
        source_type=source_type,
        source_id=source_id,
    )


# The first posted entry, in fiscal year and number order, whose number does not follow its
# predecessor's, whose previous_hash is not its predecessor's hash, or whose content no longer
# gives its hash.
_FIRST_BROKEN = Prepared(
    text(
        """
        WITH chain AS (
          SELECT id, fiscal_year, number, hash, previous_hash,
                 lag(hash, 1, '') OVER w AS expected_previous,
                 lag(number, 1, 0) OVER w AS previous_number
            FROM accounting_journal_entry
           WHERE status = 'posted' AND (fiscal_year = :fiscal_year OR :fiscal_year IS NULL)
          WINDOW w AS (PARTITION BY fiscal_year ORDER BY number)
        )
        SELECT id, fiscal_year, number,
               CASE WHEN number <> previous_number + 1 THEN 'gap'
                    WHEN previous_hash <> expected_previous THEN 'chain'
                    ELSE 'content' END AS problem
          FROM chain
         WHERE number <> previous_number + 1
            OR previous_hash <> expected_previous
            OR hash IS DISTINCT FROM accounting_entry_hash(id, fiscal_year, number, previous_hash)
         ORDER BY fiscal_year, number
         LIMIT 1
        """
    ).bindparams(bindparam("fiscal_year", type_=Integer()))
)
_YEARS = Prepared(
    text(
        """
        SELECT y.year AS fiscal_year, y.last_number, y.last_hash AS kept_hash,
               count(e.id) AS entries,
               coalesce(max(e.number), 0) AS highest_number,
               (SELECT hash FROM accounting_journal_entry
                 WHERE fiscal_year = y.year AND number = y.last_number) AS last_hash
          FROM accounting_fiscal_year y
          LEFT JOIN accounting_journal_entry e ON e.fiscal_year = y.year AND e.status = 'posted'
         WHERE y.year = :fiscal_year OR :fiscal_year IS NULL
         GROUP BY y.year
         ORDER BY y.year
        """
    ).bindparams(bindparam("fiscal_year", type_=Integer()))
)


def _drift(table: str, key: str, key_of_day: str) -> Prepared:
    """How many (`key`, account) totals of `table` differ from the posted lines of the days
    from :first to :last (`key_of_day`: the key of a posting date). Names are constants."""
    return Prepared(
        text(
            f"""
            WITH lines AS (
              SELECT {key_of_day} AS {key}, l.account_id,
                     coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0) AS debit,
                     coalesce(-sum(l.amount) FILTER (WHERE l.amount < 0), 0) AS credit
                FROM accounting_journal_line l
                JOIN accounting_journal_entry e ON e.id = l.entry_id
               WHERE e.status = 'posted' AND e.posting_date BETWEEN :first AND :last
               GROUP BY 1, 2
            ), kept AS (
              SELECT * FROM {table} b WHERE b.{key} BETWEEN :first AND :last
            )
            SELECT count(*)
              FROM lines FULL JOIN kept USING ({key}, account_id)
             WHERE lines.debit IS DISTINCT FROM kept.debit
                OR lines.credit IS DISTINCT FROM kept.credit
            """  # noqa: S608 (the names are constants)
        ).bindparams(
            bindparam("first", type_=JournalEntry.__table__.c.posting_date.type),
            bindparam("last", type_=JournalEntry.__table__.c.posting_date.type),
        )
    )


_MONTHLY_DRIFT = _drift(
    "accounting_monthly_balance",
    "month",
    "e.posting_date - (extract(day FROM e.posting_date)::integer - 1)",
)
_DAILY_DRIFT = _drift("accounting_daily_balance", "day", "e.posting_date")


async def first_broken_entry(
    reader: AsyncConnection, fiscal_year: int | None
) -> dict[str, Any] | None:
    return await _FIRST_BROKEN.one_or_none(reader, fiscal_year=fiscal_year)


async def fiscal_year_chains(
    reader: AsyncConnection, fiscal_year: int | None
) -> list[dict[str, Any]]:
    """Per fiscal year: its counter and the last hash it keeps, how many posted entries it
    holds, the highest number among them and the hash of its last entry."""
    return await _YEARS.all(reader, fiscal_year=fiscal_year)


async def drifted_balances(reader: AsyncConnection, first: date, last: date) -> int:
    """How many kept totals (per month or day, and account) of the days from `first` to
    `last` (whole months) differ from the posted lines."""
    monthly: int = await _MONTHLY_DRIFT.scalar(reader, first=first, last=last)
    daily: int = await _DAILY_DRIFT.scalar(reader, first=first, last=last)
    return monthly + daily

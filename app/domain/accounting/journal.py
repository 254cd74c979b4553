"""Journal entries: drafts are written, changed and deleted freely; posting numbers an entry
(gap-free per fiscal year), chains its hash and adds it to the balances, after which it is
fixed: a correction is a reversal entry (GoBD). Every posting and reversal is audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.repositories.accounting import journal as repo
from app.db.repositories.accounting import periods as periods_repo
from app.domain.accounting.company import books_company
from app.domain.accounting.rules import (
    EntryKind,
    EntryStatus,
    Line,
    Side,
    check_lines,
    fiscal_year_of,
    reversal_lines,
    reversal_text,
)
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, FieldError, NotFound, ReferenceConflict

_NOT_FOUND = "no such journal entry"
_CENT = Decimal("0.01")
_RESOURCE = "accounting_journal_entry"


@dataclass(frozen=True, slots=True)
class Source:
    """What an entry books: an invoice, an order, a payroll run..."""

    type: str
    id: str


@dataclass(frozen=True, slots=True)
class EntryData:
    document_date: date
    text: str
    lines: Sequence[Line]
    posting_date: date | None = None  # None: the document date
    currency: str | None = None  # None: the company's base currency
    document_ref: str | None = None
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class Reversal:
    posting_date: date
    text: str | None = None  # None: "Storno <year>-<number>: <original text>"


@dataclass(frozen=True, slots=True)
class _Booking:
    """An entry ready to be stored: its columns, its lines with their account ids, and the
    fiscal year its posting date falls in."""

    values: dict[str, Any]
    lines: list[Line]
    account_ids: list[uuid.UUID]
    fiscal_year: int

    @property
    def amounts(self) -> list[Decimal]:
        return [x.signed for x in self.lines]

    def stored_lines(self) -> list[dict[str, Any]]:
        """The lines as a read of the entry shows them."""
        return [
            {"line_no": n, "account": x.account, "account_id": account_id,
             "side": x.side.value, "amount": str(x.amount.quantize(_CENT))}
            for n, (x, account_id) in enumerate(zip(self.lines, self.account_ids, strict=True), 1)
        ]  # fmt: skip


def _account_ids(
    lines: Sequence[Line], found: dict[str, dict[str, Any]], *, active_only: bool
) -> list[uuid.UUID]:
    """The lines' account ids; 409 naming each line whose account is unknown (or inactive,
    for new bookings)."""
    errors = []
    for index, line in enumerate(lines):
        account = found.get(line.account)
        if account is None:
            errors.append(
                FieldError(f"no account numbered {line.account}", f"/lines/{index}/account")
            )
        elif active_only and not account["is_active"]:
            errors.append(
                FieldError(f"account {line.account} is deactivated", f"/lines/{index}/account")
            )
    if errors:
        raise ReferenceConflict("; ".join(f"{e.pointer}: {e.detail}" for e in errors), errors)
    return [found[x.account]["id"] for x in lines]


async def _booking(
    session: AsyncSession, entry_id: uuid.UUID, data: EntryData, *, kind: EntryKind
) -> _Booking:
    context = await repo.booking_context(session, sorted({x.account for x in data.lines}))
    if context is None:
        raise Conflict("set the company up first: PUT /api/v1/accounting/company")
    currency = data.currency or context.base_currency
    if currency != context.base_currency:
        # Reports add amounts up per account: they must all be in one currency.
        raise _refused(
            "/currency",
            f"the books are kept in {context.base_currency}; foreign-currency entries are"
            " not supported yet",
        )
    check_lines(data.lines, currency)
    account_ids = _account_ids(data.lines, context.accounts, active_only=kind is EntryKind.regular)
    posting_date = data.posting_date or data.document_date
    values = {
        "id": entry_id,
        "currency": currency,
        "document_date": data.document_date,
        "posting_date": posting_date,
        "document_ref": data.document_ref,
        "text": data.text,
        "source_type": data.source.type if data.source else None,
        "source_id": data.source.id if data.source else None,
    }
    year = fiscal_year_of(posting_date, context.fiscal_year_start_month)
    return _Booking(values, list(data.lines), account_ids, year)


async def _post(
    session: AsyncSession,
    actor: Actor,
    draft: dict[str, Any],
    year: int,
    action: str,
) -> dict[str, Any]:
    """Numbers, hashes and posts a locked draft dated in fiscal `year`, adds it to the
    balances and audits it as `action`; the posted entry's columns."""
    posting_date: date = draft["posting_date"]
    audit = repo.PostingAudit(
        f"accounting.journal_entry.{action}", _audit_view(draft), actor.request_id
    )
    posted = await repo.post(
        session,
        draft["id"],
        fiscal_year=year,
        posted_by=actor.subject,
        day=posting_date,
        audit=audit,
    )
    if posted is None:
        raise _refused("/posting_date", await _why_closed(session, year, posting_date))
    return posted


async def _why_closed(session: AsyncSession, year: int, posting_date: date) -> str:
    """Which of the three closings refused a posting (read only once one did)."""
    closed = {r["year"] for r in await periods_repo.fiscal_years(session) if r["closed_at"]}
    if year in closed:
        return f"fiscal year {year} is closed: post into an open fiscal year"
    if later := [y for y in sorted(closed) if y > year]:
        return (
            f"fiscal year {later[0]} is closed and carried the balances forward: nothing"
            f" before it may be posted, and fiscal year {year} is before it"
        )
    return (
        f"{posting_date:%Y-%m} is closed: post into an open month, or have a second person"
        " reopen it"
    )


def _refused(pointer: str, detail: str) -> ReferenceConflict:
    return ReferenceConflict(detail, [FieldError(detail, pointer=pointer)])


async def _stored(session: AsyncSession, entry_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.entry_row(session, entry_id)
    assert row is not None
    return row


def _audit_view(entry: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "status", "kind", "fiscal_year", "number", "currency", "document_date", "posting_date",
        "document_ref", "text", "source_type", "source_id", "reverses_id",
    )  # fmt: skip
    view = {k: entry[k] for k in keep}
    view["lines"] = [
        {"account": x["account"], "side": x["side"], "amount": x["amount"]} for x in entry["lines"]
    ]
    return {k: str(v) if isinstance(v, uuid.UUID | date) else v for k, v in view.items()}


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entry_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await record_change(
        session,
        actor,
        action=f"accounting.journal_entry.{action}",
        resource_type=_RESOURCE,
        resource_id=entry_id,
        before=_audit_view(before) if before else None,
        after=_audit_view(after) if after else None,
    )


async def create_entry(
    session: AsyncSession,
    actor: Actor,
    data: EntryData,
    *,
    post: bool,
    entry_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Stores a draft, or posts it at once (`post`): nothing is stored unless the lines
    balance, name active accounts and, for a posting, fall into an open period."""
    entry_id = entry_id or uuid.uuid4()
    booking = await _booking(session, entry_id, data, kind=EntryKind.regular)
    try:
        return await _store(session, actor, booking, kind=EntryKind.regular, post=post)
    except repo.IdTaken as exc:
        raise Conflict("a journal entry with this id exists") from exc


async def _store(
    session: AsyncSession,
    actor: Actor,
    booking: _Booking,
    *,
    kind: EntryKind,
    post: bool,
    reverses_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Inserts the booking (and posts it), audits that, and returns the entry as read."""
    values = booking.values | {
        "kind": kind.value,
        "reverses_id": reverses_id,
        "created_by": actor.subject,
    }
    stored = await repo.insert_draft(
        session, values, booking.account_ids, booking.amounts, booking.fiscal_year
    )
    read_back = {"lines": booking.stored_lines(), "reversed_by_id": None}
    if post:
        action = {EntryKind.reversal: "reverse", EntryKind.opening: "open"}.get(kind, "post")
        posted = await _post(session, actor, stored | read_back, booking.fiscal_year, action)
        return posted | read_back
    await _audit(session, actor, "create", values["id"], None, stored | read_back)
    return stored | read_back


async def _locked_draft(
    session: AsyncSession, entry_id: uuid.UUID, expected: ExpectedVersion
) -> dict[str, Any]:
    locked = await repo.lock_entry(session, entry_id)
    if locked is None:
        raise NotFound(_NOT_FOUND)
    if locked["status"] != EntryStatus.draft:
        raise Conflict("the entry is posted: it cannot change; reverse it instead")
    expected.check(locked["version"])
    return locked


async def update_draft(
    session: AsyncSession,
    actor: Actor,
    entry_id: uuid.UUID,
    expected: ExpectedVersion,
    data: EntryData,
) -> dict[str, Any]:
    """Replaces a draft's fields and lines (409 once it is posted)."""
    await _locked_draft(session, entry_id, expected)
    before = await _stored(session, entry_id)
    booking = await _booking(session, entry_id, data, kind=EntryKind.regular)
    await repo.replace_draft(session, booking.values, booking.account_ids, booking.amounts)
    after = await _stored(session, entry_id)
    await _audit(session, actor, "update", entry_id, before, after)
    return after


async def delete_draft(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID, expected: ExpectedVersion
) -> None:
    """Drafts may be thrown away; posted entries never (409)."""
    await _locked_draft(session, entry_id, expected)
    before = await _stored(session, entry_id)
    await repo.delete_draft(session, entry_id)
    await _audit(session, actor, "delete", entry_id, before, None)


async def post_draft(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID, expected: ExpectedVersion
) -> dict[str, Any]:
    """Posts a draft: it gets the next number of its fiscal year and cannot change again."""
    locked = await _locked_draft(session, entry_id, expected)
    company = await books_company(session)
    year = fiscal_year_of(locked["posting_date"], company["fiscal_year_start_month"])
    await repo.ensure_year(session, year)
    await _post(session, actor, await _stored(session, entry_id), year, "post")
    return await _stored(session, entry_id)


async def reverse_entry(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID, reversal: Reversal
) -> dict[str, Any]:
    """Posts the entry's mirror image, linked to it: the correction GoBD allows. An entry is
    reversed once; a reversal is not reversed again (post the right entry instead), nor is an
    opening entry (its closed year could not carry the balances forward again)."""
    original = await repo.entry_row(session, entry_id)
    if original is None:
        raise NotFound(_NOT_FOUND)
    if original["status"] != EntryStatus.posted:
        raise Conflict("only posted entries are reversed; change or delete the draft instead")
    if original["kind"] == EntryKind.reversal:
        raise Conflict("a reversal is not reversed: post the correct entry instead")
    if original["kind"] == EntryKind.opening:
        raise Conflict(
            "an opening entry carries a closed year's balances forward and is not reversed:"
            " post a correcting entry instead"
        )
    if original["reversed_by_id"] is not None:
        raise Conflict(f"already reversed by {original['reversed_by_id']}")
    lines = [Line(x["account"], Side(x["side"]), Decimal(x["amount"])) for x in original["lines"]]
    data = EntryData(
        document_date=reversal.posting_date,
        posting_date=reversal.posting_date,
        text=reversal.text
        or reversal_text(original["fiscal_year"], original["number"], original["text"]),
        lines=reversal_lines(lines),
        currency=original["currency"],
        document_ref=original["document_ref"],
        source=Source(original["source_type"], original["source_id"])
        if original["source_type"]
        else None,
    )
    try:
        stored = await post_generated(
            session, actor, data, kind=EntryKind.reversal, reverses_id=entry_id
        )
    except repo.IdTaken as exc:  # the unique link: reversed meanwhile
        raise Conflict("the entry was reversed meanwhile") from exc
    return stored


async def post_generated(
    session: AsyncSession,
    actor: Actor,
    data: EntryData,
    *,
    kind: EntryKind,
    reverses_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Stores and posts an entry the books make themselves (a reversal, the opening balances
    of a year): its accounts may have been deactivated since. Audited as `kind`."""
    booking = await _booking(session, uuid.uuid4(), data, kind=kind)
    return await _store(session, actor, booking, kind=kind, post=True, reverses_id=reverses_id)


async def get_entry(reader: AsyncConnection, entry_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.entry_row(reader, entry_id)
    if row is None:
        raise NotFound(_NOT_FOUND)
    return row


async def list_entries(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    status: EntryStatus | None = None,
    fiscal_year: int | None = None,
    source_type: str | None = None,
    source_id: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest change first (`updated_since` mirrors changes)."""
    return await repo.entry_rows(
        reader,
        page,
        status=status.value if status else None,
        fiscal_year=fiscal_year,
        source_type=source_type,
        source_id=source_id,
    )

"""The journal: drafts, posting and reversal. Reading needs `accounting:read`, writing
`accounting:post`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Query, Response, status

from app.domain.accounting import integrity, journal
from app.domain.accounting.rules import EntryStatus, Line
from app.http.conditional import IfMatchHeader, parse_if_match
from app.http.dependencies import Idempotent, PageParams, ReaderDep, SessionDep, actor_for
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.accounting.chart import POST, READ, Poster, versioned
from app.schemas.common import Page
from app.schemas.ledger import (
    EntryCreate,
    EntryRead,
    EntryWrite,
    IntegrityRead,
    ReversalCreate,
    SourceId,
    SourceType,
)

router = AreaRouter(prefix="/api/v1/accounting", tags=["accounting"], route_class=DatabaseRoute)

EntryId = Annotated[uuid.UUID, Path(description="The journal entry's id")]
_ENTRIES = "/journal-entries"


def entry_read(row: dict[str, Any], response: Response | None = None) -> EntryRead:
    source = {"type": row["source_type"], "id": row["source_id"]} if row["source_type"] else None
    if response is not None:
        versioned(row, response)
    return EntryRead.model_validate(row | {"source": source})


def _data(body: EntryWrite) -> journal.EntryData:
    return journal.EntryData(
        document_date=body.document_date,
        posting_date=body.posting_date,
        text=body.text,
        document_ref=body.document_ref,
        currency=body.currency,
        source=journal.Source(body.source.type, body.source.id) if body.source else None,
        lines=[Line(x.account, x.side, x.amount, x.currency) for x in body.lines],
    )


def _located(row: dict[str, Any], response: Response) -> EntryRead:
    response.headers["Location"] = f"{router.prefix}{_ENTRIES}/{row['id']}"
    return entry_read(row, response)


@router.get(
    _ENTRIES,
    operation_id="accounting_list_journal_entries",
    response_model=Page[EntryRead],
    dependencies=[READ],
)
async def accounting_list_journal_entries(
    reader: ReaderDep,
    page: PageParams,
    status_: Annotated[EntryStatus | None, Query(alias="status")] = None,
    fiscal_year: Annotated[int | None, Query(ge=1899, le=2999)] = None,
    source_type: Annotated[SourceType | None, Query()] = None,
    source_id: Annotated[SourceId | None, Query()] = None,
) -> Page[EntryRead]:
    """Drafts and posted entries, oldest change first (`updated_since` mirrors changes).
    `source_type` and `source_id` (each alone, or both) find what an invoice or an order
    booked."""
    rows, next_cursor = await journal.list_entries(
        reader,
        page,
        status=status_,
        fiscal_year=fiscal_year,
        source_type=source_type,
        source_id=source_id,
    )
    return Page(items=[entry_read(r) for r in rows], next_cursor=next_cursor)


@router.post(
    _ENTRIES,
    operation_id="accounting_create_journal_entry",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryRead,
    dependencies=[POST, Idempotent],
    responses=problem_responses(409, 422),
)
async def accounting_create_journal_entry(
    body: EntryCreate, session: SessionDep, caller: Poster, response: Response
) -> EntryRead:
    """Store a draft, or post at once with `"post": true`. Lines that do not balance, fewer
    than two lines, a zero amount or another currency are 422 problems naming the line; an
    unknown or deactivated account, a closed period or a missing company are 409. Nothing is
    stored then."""
    row = await journal.create_entry(
        session, actor_for(caller), _data(body), post=body.post, entry_id=body.id
    )
    return _located(row, response)


@router.get(
    f"{_ENTRIES}/{{entry_id}}",
    operation_id="accounting_get_journal_entry",
    response_model=EntryRead,
    dependencies=[READ],
    responses=problem_responses(404),
)
async def accounting_get_journal_entry(
    entry_id: EntryId, reader: ReaderDep, response: Response
) -> EntryRead:
    return entry_read(await journal.get_entry(reader, entry_id), response)


@router.put(
    f"{_ENTRIES}/{{entry_id}}",
    operation_id="accounting_update_journal_entry",
    response_model=EntryRead,
    dependencies=[POST],
    responses=problem_responses(400, 404, 409, 412, 422),
)
async def accounting_update_journal_entry(
    entry_id: EntryId,
    body: EntryWrite,
    session: SessionDep,
    caller: Poster,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EntryRead:
    """Replace a draft (its fields and all its lines). A posted entry answers 409: reverse it."""
    row = await journal.update_draft(
        session, actor_for(caller), entry_id, parse_if_match(if_match), _data(body)
    )
    return entry_read(row, response)


@router.delete(
    f"{_ENTRIES}/{{entry_id}}",
    operation_id="accounting_delete_journal_entry",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[POST],
    responses=problem_responses(400, 404, 409, 412),
)
async def accounting_delete_journal_entry(
    entry_id: EntryId, session: SessionDep, caller: Poster, if_match: IfMatchHeader = None
) -> None:
    """Throw a draft away. A posted entry answers 409: it is kept for good."""
    await journal.delete_draft(session, actor_for(caller), entry_id, parse_if_match(if_match))


@router.post(
    f"{_ENTRIES}/{{entry_id}}/post",
    operation_id="accounting_post_journal_entry",
    response_model=EntryRead,
    dependencies=[POST],
    responses=problem_responses(400, 404, 409, 412),
)
async def accounting_post_journal_entry(
    entry_id: EntryId,
    session: SessionDep,
    caller: Poster,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EntryRead:
    """Post a draft: it gets the next number of its fiscal year and its hash, and is fixed
    from then on (409 when it is posted already or its period is closed)."""
    row = await journal.post_draft(session, actor_for(caller), entry_id, parse_if_match(if_match))
    return entry_read(row, response)


@router.post(
    f"{_ENTRIES}/{{entry_id}}/reverse",
    operation_id="accounting_reverse_journal_entry",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryRead,
    dependencies=[POST, Idempotent],
    responses=problem_responses(404, 409),
)
async def accounting_reverse_journal_entry(
    entry_id: EntryId, body: ReversalCreate, session: SessionDep, caller: Poster, response: Response
) -> EntryRead:
    """Post the reversal of a posted entry (its lines on the other side, linked to it): the
    only correction a posted entry takes. 409 when it is a draft, reversed already, itself a
    reversal, or the reversal's period is closed."""
    reversal = journal.Reversal(posting_date=body.posting_date, text=body.text)
    row = await journal.reverse_entry(session, actor_for(caller), entry_id, reversal)
    return _located(row, response)


@router.get(
    "/integrity",
    operation_id="accounting_verify_integrity",
    response_model=IntegrityRead,
    dependencies=[READ],
)
async def accounting_verify_integrity(
    reader: ReaderDep,
    fiscal_year: Annotated[
        int | None, Query(ge=1899, le=2999, description="Only this fiscal year")
    ] = None,
) -> IntegrityRead:
    """Recompute every posted entry's hash along its fiscal year's chain, and the kept balances
    from the posted lines; names the first entry from which the chain is broken."""
    return IntegrityRead.model_validate(await integrity.verify_ledger(reader, fiscal_year))

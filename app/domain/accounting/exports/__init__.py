"""Exports of the posted journal: the booking batch a German tax advisor imports into DATEV,
and the GDPdU data carrier a tax auditor reads (GoBD "Z3" access). Both take the entries
posted with a posting date from `first` to `last`; drafts never leave the books.

Each export reads its journal and chart in one snapshot (a read-only REPEATABLE READ
transaction), a page at a time: it holds the books of one moment, and its chart every account
its journal names. The company is read before, outside it: a company change locks the company
table, and would otherwise wait for the whole export, and every booking behind it. Formatting
and compressing run in a worker thread, a page at a time: an export of millions of lines
takes many seconds of CPU, and on the event loop it would hold up every other request of the
server's process.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.repositories.accounting import exports as repo
from app.domain.accounting.company import books_company
from app.domain.accounting.exports import datev, gdpdu
from app.domain.accounting.exports.entries import (
    ExportEntry,
    accounts_from_rows,
    entries_from_rows,
)
from app.domain.accounting.exports.fields import german_date
from app.domain.accounting.rules import fiscal_year_of, fiscal_year_span
from app.domain.errors import FieldError, InvalidInput
from app.domain.worker_threads import in_thread

# The fiscal years whose first and last days are dates (as for GET /journal-entries).
_FIRST_YEAR, _LAST_YEAR = 1, 9998
_PAGE_ENTRIES = 2000  # entries read per statement
_SPOOL_IN_MEMORY = 16 * 1024 * 1024  # a data carrier's bytes kept in memory before a temp file


@dataclass(frozen=True, slots=True)
class DatevClient:
    """Whose books the batch belongs to in DATEV: the tax advisor's number and the client's
    number at the advisor."""

    consultant_number: int = 1001  # Beraternummer, 1001 to 9999999
    client_number: int = 1  # Mandantennummer, 1 to 99999


def _refused(parameter: str, detail: str) -> InvalidInput:
    return InvalidInput(f"{parameter}: {detail}", [FieldError(detail, parameter=parameter)])


def _check_span(first: date, last: date) -> None:
    if last < first:
        raise _refused("to", f"{last} is before `from` ({first})")


async def _journal_pages(
    reader: AsyncConnection, first: date, last: date, years: tuple[int, int]
) -> AsyncIterator[list[ExportEntry]]:
    """The posted entries of the span, whose dates lie in the fiscal years `years` (first,
    last), a page at a time, by fiscal year and number."""
    first_year, last_year = years
    after = (first_year, 0)  # before the first number of the span's first fiscal year
    while True:
        rows = await repo.journal_page(reader, first, last, after, last_year, _PAGE_ENTRIES)
        if not rows:
            return
        entries = await in_thread(entries_from_rows, rows)
        yield entries
        if len(entries) < _PAGE_ENTRIES:
            return
        after = (entries[-1].fiscal_year, entries[-1].number)


async def _journal(
    reader: AsyncConnection, first: date, last: date, year: int
) -> list[ExportEntry]:
    pages = _journal_pages(reader, first, last, (year, year))
    return [entry async for page in pages for entry in page]


def _fiscal_year(day: date, start_month: int, parameter: str) -> int:
    year = fiscal_year_of(day, start_month)
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise _refused(parameter, f"lies in fiscal year {year}, outside 1 to 9998")
    return year


def _batch_year(first: date, last: date, start_month: int) -> int:
    """The one fiscal year `first` to `last` lie in: DATEV takes a batch per fiscal year."""
    year = _fiscal_year(first, start_month, "from")
    last_year = _fiscal_year(last, start_month, "to")
    if last_year != year:
        raise _refused(
            "to",
            f"{first} to {last} spans the fiscal years {year} and {last_year}: a DATEV batch"
            " holds one fiscal year, export each year on its own",
        )
    return year


async def datev_batch(
    reader: AsyncConnection,
    first: date,
    last: date,
    client: DatevClient | None = None,
    created_at: datetime | None = None,
) -> bytes:
    """The DATEV booking batch (EXTF, Windows-1252) of the entries posted from `first` to
    `last`, which must lie in one fiscal year; a split entry becomes several bookings. 422
    when `to` is before `from`, the span crosses fiscal years or holds more bookings than
    DATEV takes in one batch; 409 until the company is set up."""
    client = client or DatevClient()
    _check_span(first, last)
    company = await books_company(reader)
    start_month = company["fiscal_year_start_month"]
    year = _batch_year(first, last, start_month)
    async with repo.one_snapshot(reader):
        entries = await _journal(reader, first, last, year)
        accounts = await repo.account_rows(reader)
    try:
        bookings = await in_thread(datev.batch_bookings, entries)
    except datev.TooManyBookings:
        raise _refused(
            "to",
            f"{first} to {last} makes more DATEV bookings than the {datev.MAX_BOOKINGS} one"
            " batch takes: export shorter spans",
        ) from None
    header = datev.Header(
        consultant_number=client.consultant_number,
        client_number=client.client_number,
        fiscal_year_start=fiscal_year_span(year, start_month)[0],
        account_length=datev.account_length(a["number"] for a in accounts),
        first=first,
        last=last,
        currency=company["base_currency"],
        chart=company["chart"],
        created_at=(created_at or datetime.now(UTC)).astimezone(UTC),
        automatic_accounts=frozenset(
            a["number"] for a in accounts if a["tax_key"] and a["type"] in ("income", "expense")
        ),
    )
    return await in_thread(datev.render_batch, header, bookings)


def _supplier(
    company: dict[str, Any], first: date, last: date, created_at: datetime
) -> gdpdu.Supplier:
    """The company as the data's supplier; the comment names the span and the tax numbers."""
    span = f"{german_date(first)} bis {german_date(last)}"
    facts = [f"Buchungsjournal und Kontenplan, Buchungsdatum {span}"]
    if company["tax_number"]:
        facts.append(f"Steuernummer {company['tax_number']}")
    if company["vat_id"]:
        facts.append(f"USt-IdNr. {company['vat_id']}")
    facts.append(f"erstellt {created_at:%Y-%m-%d %H:%M} UTC")
    location = (
        f"{company['street']}, {company['postal_code']} {company['city']}, {company['country']}"
    )
    return gdpdu.Supplier(company["legal_name"], location, "; ".join(facts))


async def _write_carrier(
    reader: AsyncConnection, carrier: gdpdu.DataCarrier, years: tuple[int, int], out: IO[bytes]
) -> None:
    first, last = carrier.first, carrier.last
    writer = gdpdu.DataCarrierWriter(out, carrier)
    try:
        async for page in _journal_pages(reader, first, last, years):
            await in_thread(writer.add, page)
        accounts = accounts_from_rows(await repo.account_rows(reader))
        await in_thread(writer.finish, accounts)
    finally:
        writer.discard()


async def gdpdu_data_carrier(
    reader: AsyncConnection,
    first: date,
    last: date,
    created_at: datetime | None = None,
) -> IO[bytes]:
    """The GDPdU ZIP (index.xml, its DTD, the chart, the entries and their lines) of the
    entries posted from `first` to `last`, a span of any length (typically a fiscal year),
    as a file positioned at its start; the caller closes it. Written while the journal is
    read page by page: memory stays bounded however long the span. 422 when `to` is before
    `from`; 409 until the company is set up.

    Every page is read in one snapshot: the carrier holds the books as they were when the
    export began, however long it takes and whatever is posted meanwhile."""
    _check_span(first, last)
    company = await books_company(reader)
    start_month = company["fiscal_year_start_month"]
    years = (_fiscal_year(first, start_month, "from"), _fiscal_year(last, start_month, "to"))
    moment = (created_at or datetime.now(UTC)).astimezone(UTC)
    carrier = gdpdu.DataCarrier(_supplier(company, first, last, moment), first, last, moment)
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        async with repo.one_snapshot(reader):
            await _write_carrier(reader, carrier, years, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out

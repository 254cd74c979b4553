"""Exports of the posted journal: the booking batch a German tax advisor imports into DATEV,
and the GDPdU data carrier a tax auditor reads (GoBD "Z3" access). Both take the entries
posted with a posting date from `first` to `last`; drafts never leave the books.

The journal is read before the chart: the reads run outside a transaction, and accounts are
never deleted, so every account the journal names is in the chart read after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

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

# The fiscal years whose first and last days are dates (as for GET /journal-entries).
_FIRST_YEAR, _LAST_YEAR = 1, 9998


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


async def _journal(reader: AsyncConnection, first: date, last: date) -> list[ExportEntry]:
    return entries_from_rows(await repo.journal_rows(reader, first, last))


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
    entries = await _journal(reader, first, last)
    accounts = await repo.account_rows(reader)
    try:
        bookings = datev.batch_bookings(entries)
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
    return datev.render_batch(header, bookings)


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


async def gdpdu_data_carrier(
    reader: AsyncConnection,
    first: date,
    last: date,
    created_at: datetime | None = None,
) -> bytes:
    """The GDPdU ZIP (index.xml, its DTD, the chart, the entries and their lines) of the
    entries posted from `first` to `last`, a span of any length (typically a fiscal year).
    422 when `to` is before `from`; 409 until the company is set up."""
    _check_span(first, last)
    company = await books_company(reader)
    moment = (created_at or datetime.now(UTC)).astimezone(UTC)
    entries = await _journal(reader, first, last)
    accounts = accounts_from_rows(await repo.account_rows(reader))
    carrier = gdpdu.DataCarrier(
        supplier=_supplier(company, first, last, moment),
        first=first,
        last=last,
        created_at=moment,
        accounts=accounts,
        entries=entries,
    )
    return gdpdu.data_carrier(carrier)

"""The DATEV booking batch ("Buchungsstapel", DATEV-Format EXTF: header version 700, format
category 21, format version 13) that German tax advisors import.

The file: a header line describing the batch, a line of column names, then one line per
booking, each with all 125 columns; `;` between fields, text in double quotes, CR LF after
every line, Windows-1252 text. A DATEV booking has one account and one contra account
(Konto, Gegenkonto) and a positive amount; "S" says the amount is debited to Konto and
credited to Gegenkonto. A journal entry of two lines is one booking; a split entry becomes
several bookings that together move every account exactly as the entry does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain.accounting.exports.entries import ExportEntry
from app.domain.accounting.exports.fields import (
    amount,
    compact_date,
    day_month,
    german_date,
    quoted,
    record,
)
from app.domain.errors import Conflict

ENCODING = "cp1252"
# The most bookings DATEV imports from one batch.
MAX_BOOKINGS = 99_999
# Umsatz holds at most ten digits before the comma; larger amounts take several bookings.
MAX_BOOKING_AMOUNT = Decimal("9999999999.99")
_CHARTS = {"skr03": "03", "skr04": "04"}
# Belegfeld 1 is the key DATEV matches open items by; it takes letters, digits and $ % - /
# only (no spaces, umlauts, dots...).
_NOT_IN_DOCUMENT_FIELD = re.compile(r"[^A-Za-z0-9$%/-]")

# In DATEV's order, spelled as in the heading line of DATEV's sample batch.
COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
    "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank", "Sachverhalt",
    "Zinssperre", "Beleglink",
    *(f"Beleginfo - {kind} {n}" for n in range(1, 9) for kind in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)", "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart",
    "Sachverhalt L+L", "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    *(
        name
        for n in range(1, 21)
        for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
    ),
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr",
    "Zugeordnete Fälligkeit", "Skontotyp", "Auftragsnummer", "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)", "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz", "Buchungs GUID",
    "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre", "Gesellschaftername",
    "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer", "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung", "Festschreibung",
    "Leistungsdatum", "Datum Zuord. Steuerperiode", "Fälligkeit", "Generalumkehr (GU)",
    "Steuersatz", "Land", "Abrechnungsreferenz", "BVV-Position",
    "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)  # fmt: skip
_POSITION = {name: index for index, name in enumerate(COLUMNS)}


CANCEL_AUTOMATISM = "40"


@dataclass(frozen=True, slots=True)
class Header:
    """What the header line says about the batch."""

    consultant_number: int  # Beraternummer
    client_number: int  # Mandantennummer
    fiscal_year_start: date  # WJ-Beginn
    account_length: int  # Sachkontenlänge
    first: date  # Datum vom
    last: date  # Datum bis
    currency: str
    chart: str  # skr03, skr04 or generic
    created_at: datetime
    # Income and expense accounts with a tax key: DATEV's Automatikkonten, which would take
    # VAT out of the amount themselves. The journal books the VAT on its own line, so their
    # bookings carry BU-Schlüssel 40, "Aufhebung der Automatik".
    automatic_accounts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Booking:
    """Debit `debit_account`, credit `credit_account`, by `amount` (positive)."""

    debit_account: str
    credit_account: str
    amount: Decimal


def account_length(numbers: Iterable[str]) -> int:
    """DATEV's Sachkontenlänge: the digits of the longest account number, at least 4 (SKR03
    and SKR04 use 4). A DATEV client has one length for all its batches, so it is taken from
    the whole chart, not from the accounts one batch happens to book."""
    return max([4, *(len(n) for n in numbers)])


def split_entry(entry: ExportEntry) -> list[Booking]:
    """The bookings that move every account exactly as the entry does. Debit and credit lines
    are paired greedily in line order: each booking takes the smaller of what is left of the
    current debit line and of the current credit line (a two-line entry is one booking).
    Amounts above DATEV's largest Umsatz take several bookings. A pair of the same account on
    both sides moves nothing and is left out (DATEV refuses Konto = Gegenkonto)."""
    debits = [(x.account, x.amount) for x in entry.lines if x.amount > 0]
    credits = [(x.account, -x.amount) for x in entry.lines if x.amount < 0]
    if sum(a for _, a in debits) != sum(a for _, a in credits):
        raise Conflict(
            f"journal entry {entry.reference} does not balance: the books were changed behind"
            " the application; see GET /api/v1/accounting/integrity"
        )
    bookings: list[Booking] = []
    d = c = 0
    left_debit = debits[0][1] if debits else Decimal(0)
    left_credit = credits[0][1] if credits else Decimal(0)
    while d < len(debits) and c < len(credits):
        step = min(left_debit, left_credit, MAX_BOOKING_AMOUNT)
        if debits[d][0] != credits[c][0]:
            bookings.append(Booking(debits[d][0], credits[c][0], step))
        left_debit -= step
        left_credit -= step
        if left_debit == 0:
            d += 1
            left_debit = debits[d][1] if d < len(debits) else Decimal(0)
        if left_credit == 0:
            c += 1
            left_credit = credits[c][1] if c < len(credits) else Decimal(0)
    return bookings


class TooManyBookings(Exception):
    """The entries make more bookings than one batch takes."""


def most_bookings(entry: ExportEntry) -> int:
    """An upper bound of the bookings `split_entry` makes of the entry: one per pair of lines
    (at most one fewer than the lines), plus one per MAX_BOOKING_AMOUNT moved."""
    moved = sum((x.amount for x in entry.lines if x.amount > 0), Decimal(0))
    return len(entry.lines) + int(moved // MAX_BOOKING_AMOUNT)


def batch_bookings(
    entries: Iterable[ExportEntry], limit: int = MAX_BOOKINGS
) -> list[tuple[ExportEntry, Booking]]:
    """Every booking of the entries, in journal order, with the entry it comes from.
    TooManyBookings as soon as they may exceed `limit` (before making them: one entry of huge
    amounts would make millions)."""
    bookings: list[tuple[ExportEntry, Booking]] = []
    for entry in entries:
        if most_bookings(entry) > limit:
            raise TooManyBookings
        bookings += [(entry, booking) for booking in split_entry(entry)]
        if len(bookings) > limit:
            raise TooManyBookings
    return bookings


def document_field(document_ref: str | None) -> str | None:
    """Belegfeld 1: the document's number with each character DATEV does not take there
    replaced by `-` (the number as written is kept in Zusatzinformation 3)."""
    if document_ref is None:
        return None
    return _NOT_IN_DOCUMENT_FIELD.sub("-", document_ref)


def _timestamp(moment: datetime) -> str:
    """`YYYYMMDDHHMMSSFFF`, milliseconds last."""
    return f"{compact_date(moment.date())}{moment:%H%M%S}{moment.microsecond // 1000:03d}"


def header_line(header: Header) -> str:
    """The batch's first line: its 31 fields in DATEV's order. Festschreibung 1: the postings
    are final here (GoBD), so DATEV fixes them on import too."""
    description = f"Journal {german_date(header.first)}-{german_date(header.last)}"
    fields = [
        quoted("EXTF"), "700", "21", quoted("Buchungsstapel"), "13",
        _timestamp(header.created_at),
        "",  # Importiert (DATEV fills it in)
        quoted("RE"),  # Herkunft; DATEV replaces it by SV on import
        quoted(""),  # Exportiert von
        quoted(""),  # Importiert von
        str(header.consultant_number),
        str(header.client_number),
        compact_date(header.fiscal_year_start),
        str(header.account_length),
        compact_date(header.first),
        compact_date(header.last),
        quoted(description),
        quoted(""),  # Diktatkürzel
        "1",  # Buchungstyp: Finanzbuchführung
        "0",  # Rechnungslegungszweck: unabhängig
        "1",  # Festschreibung
        quoted(header.currency),
        "",  # reserviert
        quoted(""),  # Derivatskennzeichen
        "", "",  # reserviert
        quoted(_CHARTS.get(header.chart, "")),  # Sachkontenrahmen
        "",  # ID der Branchenlösung
        "",  # reserviert
        quoted(""),  # reserviert
        quoted(""),  # Anwendungsinformation
    ]  # fmt: skip
    return record(fields)


def column_line() -> str:
    return record(COLUMNS)


def _notes(entry: ExportEntry) -> list[tuple[str, str]]:
    """Zusatzinformation (free notes, type and content): the journal number, which ties the
    bookings of a split entry together, the date on the document, and the document's number
    when Belegfeld 1 could not carry it as written."""
    notes = [
        ("Buchungsnummer", entry.reference),
        ("Dokumentdatum", german_date(entry.document_date)),
    ]
    if entry.document_ref is not None and document_field(entry.document_ref) != entry.document_ref:
        notes.append(("Belegnummer", entry.document_ref))
    return notes


def booking_line(entry: ExportEntry, booking: Booking, automatic: frozenset[str]) -> str:
    """One booking. Belegdatum is the posting date: DATEV files a booking into the period of
    its Belegdatum, which must lie within the batch's dates (the document's own date goes to
    Zusatzinformation 2). BU-Schlüssel 40 switches off the VAT automatism of an
    Automatikkonto: the journal booked the VAT on its own line already."""
    values = [""] * len(COLUMNS)
    filled = {
        "Umsatz (ohne Soll/Haben-Kz)": amount(booking.amount),
        "Soll/Haben-Kennzeichen": quoted("S"),
        "WKZ Umsatz": quoted(entry.currency),
        "Konto": booking.debit_account,
        "Gegenkonto (ohne BU-Schlüssel)": booking.credit_account,
        "BU-Schlüssel": quoted(CANCEL_AUTOMATISM)
        if {booking.debit_account, booking.credit_account} & automatic
        else "",
        "Belegdatum": day_month(entry.posting_date),
        "Belegfeld 1": quoted(document_field(entry.document_ref)),
        "Buchungstext": quoted(entry.text),
    }
    for n, (kind, content) in enumerate(_notes(entry), start=1):
        filled[f"Zusatzinformation - Art {n}"] = quoted(kind)
        filled[f"Zusatzinformation- Inhalt {n}"] = quoted(content)
    for name, value in filled.items():
        values[_POSITION[name]] = value
    return record(values)


def render_batch(header: Header, bookings: Sequence[tuple[ExportEntry, Booking]]) -> bytes:
    """The whole file, in Windows-1252 (a character it lacks becomes `?`)."""
    lines = [header_line(header), column_line()]
    lines.extend(
        booking_line(entry, booking, header.automatic_accounts) for entry, booking in bookings
    )
    return "".join(lines).encode(ENCODING, errors="replace")

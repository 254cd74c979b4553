"""The data carrier a tax auditor gets under GoBD ("Z3" access): one ZIP holding the journal
and the chart as CSV tables, `index.xml` describing them in the GDPdU description standard,
and the standard's DTD (`gdpdu-01-09-2004.dtd`) beside it, as auditing software (IDEA and
others) expects.

The tables are UTF-8 (declared by `<UTF8/>`, which the DTD allows), `;` between fields, text
in double quotes, CR LF after each record, a decimal comma, dates as DD.MM.YYYY; the first
record of each file names the columns and is skipped by `<Range><From>2</From></Range>`.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

from app.domain.accounting.exports.entries import ExportAccount, ExportEntry
from app.domain.accounting.exports.fields import amount, german_date, quoted, record

DTD_NAME = "gdpdu-01-09-2004.dtd"
INDEX_NAME = "index.xml"
ENCODING = "utf-8"
_DATE_FORMAT = "DD.MM.YYYY"
_ACCOUNT_TYPES = {
    "asset": "Aktivkonto",
    "liability": "Passivkonto",
    "equity": "Eigenkapital",
    "income": "Ertrag",
    "expense": "Aufwand",
}
_SPOOL_IN_MEMORY = 8 * 1024 * 1024  # the lines table's bytes held in memory before a temp file
_ENTRY_KINDS = {"regular": "Buchung", "reversal": "Storno", "opening": "Eröffnungsbuchung"}


class Kind(Enum):
    text = "text"
    number = "number"  # a whole number
    money = "money"  # two decimals
    day = "day"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    references: str  # the Name of the table referred to, whose primary key these columns hold


@dataclass(frozen=True, slots=True)
class Table:
    url: str
    name: str
    description: str
    keys: tuple[Column, ...]  # the primary key; its columns come first in the file
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.keys + self.columns


_YEAR = Column("WIRTSCHAFTSJAHR", "Wirtschaftsjahr (Kalenderjahr seines Beginns)", Kind.number)
_NUMBER = Column("BUCHUNGSNUMMER", "Lückenlose Nummer der Buchung im Wirtschaftsjahr", Kind.number)
ACCOUNTS = Table(
    url="sachkonten.csv",
    name="Sachkonten",
    description="Kontenplan: alle Sachkonten",
    keys=(Column("KONTO", "Kontonummer", Kind.text),),
    columns=(
        Column("BEZEICHNUNG", "Kontobezeichnung", Kind.text),
        Column("KONTOART", "Aktivkonto, Passivkonto, Eigenkapital, Ertrag oder Aufwand", Kind.text),
    ),
)
ENTRIES = Table(
    url="buchungen.csv",
    name="Buchungen",
    description="Journal: die festgeschriebenen Buchungen mit Buchungsdatum im Zeitraum",
    keys=(_YEAR, _NUMBER),
    columns=(
        Column("BUCHUNGSDATUM", "Buchungsdatum (bestimmt die Periode)", Kind.day),
        Column("BELEGDATUM", "Datum des Belegs", Kind.day),
        Column("BELEGNUMMER", "Belegnummer (Belegfeld 1)", Kind.text),
        Column("BUCHUNGSTEXT", "Buchungstext", Kind.text),
        Column("BUCHUNGSART", "Buchung, Storno oder Eröffnungsbuchung", Kind.text),
        Column("WAEHRUNG", "Währung (ISO 4217)", Kind.text),
        Column("STORNO_WIRTSCHAFTSJAHR", "Storno: Wirtschaftsjahr der Buchung", Kind.number),
        Column("STORNO_BUCHUNGSNUMMER", "Storno: Nummer der stornierten Buchung", Kind.number),
    ),
)
LINES = Table(
    url="buchungszeilen.csv",
    name="Buchungszeilen",
    description="Soll- und Habenzeilen der Buchungen; je Buchung ist Soll gleich Haben",
    keys=(_YEAR, _NUMBER, Column("ZEILE", "Zeile der Buchung", Kind.number)),
    columns=(
        Column("KONTO", "Kontonummer", Kind.text),
        Column("SOLL", "Betrag im Soll", Kind.money),
        Column("HABEN", "Betrag im Haben", Kind.money),
    ),
    foreign_keys=(
        ForeignKey((_YEAR.name, _NUMBER.name), ENTRIES.name),
        ForeignKey(("KONTO",), ACCOUNTS.name),
    ),
)
TABLES = (ACCOUNTS, ENTRIES, LINES)


@dataclass(frozen=True, slots=True)
class Supplier:
    """Who hands the data over (DataSupplier)."""

    name: str
    location: str
    comment: str


@dataclass(frozen=True, slots=True)
class DataCarrier:
    """What index.xml says of the data carrier; the journal and the chart follow."""

    supplier: Supplier
    first: date
    last: date
    created_at: datetime


@cache
def dtd() -> bytes:
    """The GDPdU DTD, version 1.5 of 1 September 2004, as published."""
    return (Path(__file__).parent / DTD_NAME).read_bytes()


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _header(table: Table) -> bytes:
    """The first record: the column names."""
    return record(quoted(c.name) for c in table.all_columns).encode(ENCODING)


def _records(rows: Iterable[Sequence[str]]) -> bytes:
    return "".join(record(row) for row in rows).encode(ENCODING)


def account_rows(accounts: Iterable[ExportAccount]) -> list[list[str]]:
    return [
        [quoted(a.number), quoted(a.name), quoted(_ACCOUNT_TYPES.get(a.type, a.type))]
        for a in accounts
    ]


def entry_rows(entries: Iterable[ExportEntry]) -> list[list[str]]:
    return [
        [
            str(e.fiscal_year),
            str(e.number),
            german_date(e.posting_date),
            german_date(e.document_date),
            quoted(e.document_ref),
            quoted(e.text),
            quoted(_ENTRY_KINDS.get(e.kind, e.kind)),
            quoted(e.currency),
            _number(e.reverses[0] if e.reverses else None),
            _number(e.reverses[1] if e.reverses else None),
        ]
        for e in entries
    ]


def line_rows(entries: Iterable[ExportEntry]) -> list[list[str]]:
    """One row per line: its amount in SOLL (debit) or HABEN (credit), 0,00 in the other."""
    zero = Decimal("0.00")
    return [
        [
            str(e.fiscal_year),
            str(e.number),
            str(line.line_no),
            quoted(line.account),
            amount(max(line.amount, zero)),
            amount(max(-line.amount, zero)),
        ]
        for e in entries
        for line in e.lines
    ]


@dataclass(frozen=True, slots=True)
class _Node:
    """An XML element: text (escaped when written) or children, or neither (empty)."""

    tag: str
    text: str | None = None
    children: tuple[_Node, ...] = ()
    markup: bool = False  # `text` is written as it is (character references)

    def render(self, depth: int = 0) -> list[str]:
        pad = "  " * depth
        if self.children:
            inner = [line for child in self.children for line in child.render(depth + 1)]
            return [f"{pad}<{self.tag}>", *inner, f"{pad}</{self.tag}>"]
        if self.text is None:
            return [f"{pad}<{self.tag}/>"]
        content = self.text if self.markup else escape(self.text)
        return [f"{pad}<{self.tag}>{content}</{self.tag}>"]


def _node(tag: str, *children: _Node) -> _Node:
    return _Node(tag, children=children)


def _leaf(tag: str, text: str | None = None) -> _Node:
    return _Node(tag, text)


def _data_type(kind: Kind) -> _Node:
    if kind is Kind.text:
        return _leaf("AlphaNumeric")
    if kind is Kind.money:
        return _node("Numeric", _leaf("Accuracy", "2"))
    if kind is Kind.day:
        return _node("Date", _leaf("Format", _DATE_FORMAT))
    return _leaf("Numeric")


def _column(column: Column, *, key: bool) -> _Node:
    return _node(
        "VariablePrimaryKey" if key else "VariableColumn",
        _leaf("Name", column.name),
        _leaf("Description", column.description),
        _data_type(column.kind),
    )


def _validity(first: date, last: date) -> _Node:
    span = _node("Range", _leaf("From", german_date(first)), _leaf("To", german_date(last)))
    return _node("Validity", span, _leaf("Format", _DATE_FORMAT))


def _table(table: Table, first: date, last: date) -> _Node:
    """One Table, its elements in the order the DTD prescribes."""
    layout = _node(
        "VariableLength",
        _leaf("ColumnDelimiter", ";"),
        # As character references: a parser would turn a literal CR LF into LF.
        _Node("RecordDelimiter", "&#13;&#10;", markup=True),
        _leaf("TextEncapsulator", '"'),
        *(_column(c, key=True) for c in table.keys),
        *(_column(c, key=False) for c in table.columns),
        *(
            _node("ForeignKey", *(_leaf("Name", n) for n in fk.columns),
                  _leaf("References", fk.references))
            for fk in table.foreign_keys
        ),
    )  # fmt: skip
    return _node(
        "Table",
        _leaf("URL", table.url),
        _leaf("Name", table.name),
        _leaf("Description", table.description),
        _validity(first, last),
        _leaf("UTF8"),
        _leaf("DecimalSymbol", ","),
        _leaf("DigitGroupingSymbol", "."),
        _node("Range", _leaf("From", "2")),  # the first record names the columns
        layout,
    )


def index_xml(carrier: DataCarrier) -> bytes:
    """The description of the data carrier (index.xml), valid against the DTD."""
    media_name = f"Finanzbuchhaltung {german_date(carrier.first)} bis {german_date(carrier.last)}"
    data_set = _node(
        "DataSet",
        _leaf("Version", "1.0"),
        _node(
            "DataSupplier",
            _leaf("Name", carrier.supplier.name),
            _leaf("Location", carrier.supplier.location),
            _leaf("Comment", carrier.supplier.comment),
        ),
        _node(
            "Media",
            _leaf("Name", media_name),
            *(_table(t, carrier.first, carrier.last) for t in TABLES),
        ),
    )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<!DOCTYPE DataSet SYSTEM "{DTD_NAME}">',
        *data_set.render(),
    ]
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)


def _member(name: str, moment: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


class DataCarrierWriter:
    """Writes the ZIP to `out` while the journal is read page by page: index.xml and the DTD
    first, then each page's entries straight into the entries table and its lines into a
    spooled file, which becomes the lines table at the end, with the chart (read last, it
    holds every account the journal named). Memory stays bounded however long the journal."""

    def __init__(self, out: IO[bytes], carrier: DataCarrier) -> None:
        self._moment = carrier.created_at
        self._archive = zipfile.ZipFile(out, "w")
        self._archive.writestr(_member(INDEX_NAME, self._moment), index_xml(carrier))
        self._archive.writestr(_member(DTD_NAME, self._moment), dtd())
        self._entries = self._archive.open(
            _member(ENTRIES.url, self._moment), "w", force_zip64=True
        )
        self._entries.write(_header(ENTRIES))
        self._lines = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        self._lines.write(_header(LINES))

    def add(self, entries: Sequence[ExportEntry]) -> None:
        self._entries.write(_records(entry_rows(entries)))
        self._lines.write(_records(line_rows(entries)))

    def finish(self, accounts: Sequence[ExportAccount]) -> None:
        """Writes the lines and the chart and completes the ZIP (`out` stays open)."""
        self._entries.close()
        self._lines.seek(0)
        with self._archive.open(_member(LINES.url, self._moment), "w", force_zip64=True) as lines:
            shutil.copyfileobj(self._lines, lines)
        self._lines.close()
        chart = _header(ACCOUNTS) + _records(account_rows(accounts))
        self._archive.writestr(_member(ACCOUNTS.url, self._moment), chart)
        self._archive.close()

    def discard(self) -> None:
        """Frees the spooled lines (after `finish`, or instead of it)."""
        self._lines.close()

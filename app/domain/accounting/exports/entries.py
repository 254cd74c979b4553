"""The posted journal and the chart as both exports read them: plain values, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class ExportLine:
    line_no: int
    account: str  # the account's number
    amount: Decimal  # signed, as stored: debit positive, credit negative


@dataclass(frozen=True, slots=True)
class ExportEntry:
    fiscal_year: int
    number: int
    document_date: date
    posting_date: date
    document_ref: str | None
    text: str
    kind: str
    currency: str
    reverses: tuple[int, int] | None  # fiscal year and number of the entry a reversal cancels
    lines: tuple[ExportLine, ...]

    @property
    def reference(self) -> str:
        """The entry's journal number, `2026-17`."""
        return f"{self.fiscal_year}-{self.number}"


@dataclass(frozen=True, slots=True)
class ExportAccount:
    number: str
    name: str
    type: str


def _entry(first: Mapping[str, Any], lines: list[ExportLine]) -> ExportEntry:
    reverses = None
    if first["reverses_number"] is not None:
        reverses = (first["reverses_fiscal_year"], first["reverses_number"])
    return ExportEntry(
        fiscal_year=first["fiscal_year"],
        number=first["number"],
        document_date=first["document_date"],
        posting_date=first["posting_date"],
        document_ref=first["document_ref"],
        text=first["text"],
        kind=first["kind"],
        currency=first["currency"],
        reverses=reverses,
        lines=tuple(lines),
    )


def entries_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[ExportEntry]:
    """Groups line rows (the entry's fields repeated on each, ordered by fiscal year, number
    and line) into entries, keeping the order."""
    entries: list[ExportEntry] = []
    head: Mapping[str, Any] | None = None
    lines: list[ExportLine] = []
    for row in rows:
        if head is not None and (row["fiscal_year"], row["number"]) != (
            head["fiscal_year"],
            head["number"],
        ):
            entries.append(_entry(head, lines))
            lines = []
        if not lines:
            head = row
        lines.append(ExportLine(row["line_no"], row["account"], row["amount"]))
    if head is not None:
        entries.append(_entry(head, lines))
    return entries


def accounts_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[ExportAccount]:
    return [ExportAccount(r["number"], r["name"], r["type"]) for r in rows]

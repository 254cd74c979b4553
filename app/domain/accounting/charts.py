"""The charts of accounts a company is set up from, kept as data files beside this module.

SKR03 (process-oriented) and SKR04 (balance-sheet-oriented) are DATEV's standard German charts;
the files hold the accounts a small trading company books to, with DATEV's numbers and names.
`generic` is a minimal chart for companies outside Germany. Columns: number, name, type,
tax_key (the VAT the account carries: USt19, USt7 output, VSt19, VSt7 input) and group (the
heading of the balance sheet or the profit and loss statement it is reported under).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

_FILES = Path(__file__).parent / "charts"


class Chart(StrEnum):
    skr03 = "skr03"
    skr04 = "skr04"
    generic = "generic"


class AccountType(StrEnum):
    asset = "asset"
    liability = "liability"
    equity = "equity"
    income = "income"
    expense = "expense"


@dataclass(frozen=True, slots=True)
class TemplateAccount:
    number: str
    name: str
    type: AccountType
    tax_key: str | None
    group: str


@cache
def template(chart: Chart) -> tuple[TemplateAccount, ...]:
    with (_FILES / f"{chart.value}.csv").open(encoding="utf-8", newline="") as file:
        return tuple(
            TemplateAccount(
                number=row["number"],
                name=row["name"],
                type=AccountType(row["type"]),
                tax_key=row["tax_key"] or None,
                group=row["group"],
            )
            for row in csv.DictReader(file, delimiter=";")
        )


# Where a year-end closing carries the year's result (Gewinnvortrag vor Verwendung).
RETAINED_EARNINGS = {Chart.skr03: "0860", Chart.skr04: "2970", Chart.generic: "3100"}

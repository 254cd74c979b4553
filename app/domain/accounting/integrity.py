"""Tamper evidence: every posted entry's hash covers its content and the hash of the entry
before it in its fiscal year, so an entry changed, removed or inserted behind the database's
triggers (by a superuser, say) breaks the chain from that entry on. The check also compares
the kept balances the reports read with the posted lines."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.repositories.accounting import chart as chart_repo
from app.db.repositories.accounting import journal as repo
from app.domain.accounting.rules import fiscal_year_span

_PROBLEMS = {
    "gap": "its number does not follow the previous entry's: entries are missing",
    "chain": "its previous_hash is not the hash of the entry before it",
    "content": "its content no longer gives its hash: it was changed",
    "missing": "the fiscal year's counter is past the last entry: entries at the end are missing",
    "anchor": "the fiscal year keeps another hash for its last entry: the end was rewritten",
}


@dataclass(frozen=True, slots=True)
class BrokenEntry:
    fiscal_year: int
    number: int
    id: uuid.UUID | None  # None: the entry is gone
    problem: str
    detail: str


@dataclass(frozen=True, slots=True)
class YearChain:
    fiscal_year: int
    entries: int
    last_number: int
    last_hash: str | None  # note it down: a later check proves nothing before it changed


def _broken(fiscal_year: int, number: int, entry_id: uuid.UUID | None, problem: str) -> BrokenEntry:
    return BrokenEntry(fiscal_year, number, entry_id, problem, _PROBLEMS[problem])


async def verify_ledger(reader: AsyncConnection, fiscal_year: int | None) -> dict[str, Any]:
    """Walks the hash chain of every fiscal year (or one) and names the first broken entry."""
    company = await chart_repo.company_row(reader)
    if company is None:
        years: list[dict[str, Any]] = []
    else:
        years = await repo.fiscal_year_chains(reader, fiscal_year)
    found = await repo.first_broken_entry(reader, fiscal_year) if years else None
    candidates = []
    if found is not None:  # first: at the same number, it says more than the ends below
        candidates.append(
            _broken(found["fiscal_year"], found["number"], found["id"], found["problem"])
        )
    for y in years:
        if y["last_number"] > y["highest_number"]:
            candidates.append(_broken(y["fiscal_year"], y["highest_number"] + 1, None, "missing"))
        elif y["last_number"] and y["kept_hash"] != y["last_hash"]:
            candidates.append(_broken(y["fiscal_year"], y["last_number"], None, "anchor"))
    first = min(candidates, key=lambda b: (b.fiscal_year, b.number), default=None)
    drifted = 0
    if company is not None:
        first_day, last_day = _span(fiscal_year, company["fiscal_year_start_month"])
        drifted = await repo.drifted_balances(reader, first_day, last_day)
    return {
        "intact": first is None and drifted == 0,
        "entries_checked": sum(y["entries"] for y in years),
        "first_broken": asdict(first) if first else None,
        "balances_drifted": drifted,
        "fiscal_years": [
            asdict(YearChain(y["fiscal_year"], y["entries"], y["last_number"], y["last_hash"]))
            for y in years
        ],
    }


def _span(fiscal_year: int | None, start_month: int) -> tuple[date, date]:
    if fiscal_year is None:
        return date.min, date.max
    return fiscal_year_span(fiscal_year, start_month)

"""A demo set of books: a coffee trading company on SKR03 with a year of postings (the
calendar year before the current one), so every report shows something on a fresh install.

Loaded only when no company is set up yet: the books of an installation in use are never
touched. The amounts vary by month from a fixed seed, so every load books the same year.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.accounting import chart as chart_repo
from app.domain.accounting import company, journal
from app.domain.accounting.charts import Chart
from app.domain.accounting.rules import Line, Side
from app.domain.actor import Actor
from app.domain.concurrency import ExpectedVersion

DEMO_ACTOR = Actor("system:demo-data")
DEMO_COMPANY = company.CompanyData(
    legal_name="Muster Kaffeehandel GmbH",
    street="Industriestraße 8",
    postal_code="50735",
    city="Köln",
    country="DE",
    tax_number="217/5754/1029",
    vat_id="DE136695976",
    fiscal_year_start_month=1,
    base_currency="EUR",
    chart=Chart.skr03,
)
_CENT = Decimal("0.01")


def _d(account: str, amount: Decimal) -> Line:
    return Line(account, Side.debit, amount)


def _c(account: str, amount: Decimal) -> Line:
    return Line(account, Side.credit, amount)


def _vat(net: Decimal) -> Decimal:
    return (net * Decimal("0.19")).quantize(_CENT)


def _month(year: int, month: int, rng: random.Random) -> list[tuple[int, str, str, list[Line]]]:
    """One month's bookings: (day, text, document, lines)."""
    sales = Decimal(rng.randrange(900_000, 1_600_000)) / 100
    cash = Decimal(rng.randrange(80_000, 250_000)) / 100
    goods = (sales * Decimal("0.55")).quantize(_CENT)
    phone = Decimal("59.90")
    m = f"{year}-{month:02}"
    return [
        (1, "Miete Lager und Büro", f"MI-{m}", [_d("4210", Decimal("1850.00")),
                                                _c("1200", Decimal("1850.00"))]),
        (5, "Wareneinkauf Rohkaffee", f"ER-{m}-1", [_d("3400", goods), _d("1576", _vat(goods)),
                                                    _c("1600", goods + _vat(goods))]),
        (12, "Ausgangsrechnungen Großhandel", f"RE-{m}", [
            _d("1400", sales + _vat(sales)), _c("8400", sales), _c("1776", _vat(sales))]),
        (15, "Tageseinnahmen Ladengeschäft", f"KB-{m}", [
            _d("1000", cash + _vat(cash)), _c("8400", cash), _c("1776", _vat(cash))]),
        (18, "Bareinzahlung auf Bankkonto", f"KB-{m}-E", [_d("1200", cash + _vat(cash)),
                                                           _c("1000", cash + _vat(cash))]),
        (20, "Zahlung Lieferant", f"ER-{m}-1", [_d("1600", goods + _vat(goods)),
                                                _c("1200", goods + _vat(goods))]),
        (25, "Zahlungseingänge Kunden", f"RE-{m}", [_d("1200", sales + _vat(sales)),
                                                    _c("1400", sales + _vat(sales))]),
        (28, "Gehälter", f"LO-{m}", [_d("4120", Decimal("4200.00")),
                                     _c("1200", Decimal("4200.00"))]),
        (28, "Telefon und Internet", f"TK-{m}", [_d("4925", phone), _d("1576", _vat(phone)),
                                                 _c("1200", phone + _vat(phone))]),
        (28, "Kontoführungsgebühren", f"BK-{m}", [_d("4970", Decimal("12.50")),
                                                  _c("1200", Decimal("12.50"))]),
    ]  # fmt: skip


async def load_demo_accounting(session: AsyncSession, today: date | None = None) -> int:
    """Sets the demo company up and posts its last calendar year; the number of entries
    posted (0 when a company exists)."""
    if await chart_repo.load_company(session) is not None:
        return 0
    await company.set_up_company(session, DEMO_ACTOR, DEMO_COMPANY, ExpectedVersion())
    year = (today or date.today()).year - 1
    rng = random.Random(year)  # noqa: S311 (demo amounts, not secrets)
    capital = Decimal("25000.00")
    bookings = [(1, "Stammkapital eingezahlt", "GV-1", [_d("1200", capital), _c("0800", capital)])]
    posted = 0
    for month in range(1, 13):
        for day, text, document, lines in bookings + _month(year, month, rng):
            data = journal.EntryData(
                document_date=date(year, month, day),
                text=text,
                document_ref=document,
                lines=lines,
            )
            await journal.create_entry(session, DEMO_ACTOR, data, post=True)
            posted += 1
        bookings = []
    return posted

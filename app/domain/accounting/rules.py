"""Ledger rules that need no database: which fiscal year a date falls in, what makes a journal
entry bookable, and what its reversal books."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.domain.errors import FieldError, InvalidInput

# NUMERIC(18, 2): what one line can hold.
MAX_AMOUNT = Decimal("9999999999999999.99")
TEXT_LENGTH = 60  # DATEV's Buchungstext
MAX_LINES = 500


class Side(StrEnum):
    debit = "debit"
    credit = "credit"


class EntryStatus(StrEnum):
    draft = "draft"
    posted = "posted"


class EntryKind(StrEnum):
    regular = "regular"
    reversal = "reversal"
    opening = "opening"


@dataclass(frozen=True, slots=True)
class Line:
    account: str  # the account's number
    side: Side
    amount: Decimal  # positive; the side says which way
    currency: str | None = None  # None: the entry's

    @property
    def signed(self) -> Decimal:
        """As stored: debit positive, credit negative."""
        return self.amount if self.side is Side.debit else -self.amount


def line_from_signed(account: str, signed: Decimal) -> Line:
    return Line(account, Side.debit if signed > 0 else Side.credit, abs(signed))


def fiscal_year_of(day: date, start_month: int) -> int:
    """The fiscal year a day belongs to, named by the calendar year it starts in (a year from
    July 2026 to June 2027 is 2026)."""
    return day.year if day.month >= start_month else day.year - 1


def fiscal_year_span(year: int, start_month: int) -> tuple[date, date]:
    """First and last day of a fiscal year (cut to the calendar's years 1 to 9999)."""
    first = date(year, start_month, 1) if year >= 1 else date.min
    if year + 1 > date.max.year:
        return first, date.max
    return first, _day_before(date(year + 1, start_month, 1))


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def check_lines(lines: Sequence[Line], currency: str) -> None:
    """An entry books at least two lines, in its own currency, with positive amounts of at
    most two decimals that fit NUMERIC(18, 2), and its debits equal its credits. Every broken
    rule is named by a JSON Pointer to the line (or to `/lines` for the balance)."""
    errors: list[FieldError] = []
    if len(lines) < 2:
        errors.append(FieldError("an entry needs at least two lines", pointer="/lines"))
    for index, line in enumerate(lines):
        at = f"/lines/{index}"
        if line.currency is not None and line.currency != currency:
            errors.append(
                FieldError(
                    f"is {line.currency}, the entry is in {currency}: one currency per entry",
                    pointer=f"{at}/currency",
                )
            )
        if line.amount <= 0:
            errors.append(FieldError("must be greater than zero", pointer=f"{at}/amount"))
        elif line.amount != line.amount.quantize(Decimal("0.01")) or line.amount > MAX_AMOUNT:
            errors.append(FieldError("at most two decimals, below 10^16", pointer=f"{at}/amount"))
    if not errors:
        debit = sum((x.amount for x in lines if x.side is Side.debit), Decimal(0))
        credit = sum((x.amount for x in lines if x.side is Side.credit), Decimal(0))
        if debit != credit:
            errors.append(
                FieldError(
                    f"debits ({debit}) and credits ({credit}) differ by {abs(debit - credit)}",
                    pointer="/lines",
                )
            )
    if errors:
        raise InvalidInput("; ".join(_described(e) for e in errors), errors)


def _described(error: FieldError) -> str:
    return f"{(error.pointer or '').lstrip('/')}: {error.detail}"


def reversal_lines(lines: Sequence[Line]) -> list[Line]:
    """The same lines on the other side: together with the original they book nothing."""
    flipped = {Side.debit: Side.credit, Side.credit: Side.debit}
    return [replace(line, side=flipped[line.side]) for line in lines]


def reversal_text(fiscal_year: int, number: int, text: str) -> str:
    """`Storno 2026-17: <original text>`, cut to DATEV's 60 characters."""
    return f"Storno {fiscal_year}-{number}: {text}"[:TEXT_LENGTH]


def month_end(first: date) -> date:
    following = _next_month(first)
    return date.max if following == date.max else _day_before(following)


@dataclass(frozen=True, slots=True)
class Spans:
    """A range of days as the kept balances cover it: whole months (first days, inclusive)
    from the monthly totals, the days before and after them from the daily ones. None: no
    such part."""

    months: tuple[date, date] | None
    days_before: tuple[date, date] | None
    days_after: tuple[date, date] | None


def _next_month(first: date) -> date:
    """The first day of the month after `first`'s (date.max after December 9999)."""
    if (first.year, first.month) == (date.max.year, 12):
        return date.max
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def spans(first: date, last: date) -> Spans:
    """Splits the days from `first` to `last` into whole months and the odd days around them."""
    if first > last:
        return Spans(None, None, None)
    full_from = first if first.day == 1 else _next_month(first)
    last_month = month_start(last)
    if last != month_end(last_month):
        if last_month == date.min:
            return Spans(None, (first, last), None)
        last_month = month_start(_day_before(last_month))
    if full_from > last_month:
        return Spans(None, (first, last), None)
    before = (first, _day_before(full_from)) if first < full_from else None
    closing = month_end(last_month)
    after = (_next_month(last_month), last) if closing < last else None
    return Spans((full_from, last_month), before, after)

"""Fiscal years and monthly periods as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.ledger import EntryRead

Status = Literal["open", "closed"]
# The months of the books' dates (1900 to 2999): their fiscal years are the ones the fiscal-year
# routes take (1899 for a year that starts within 1899 and ends in 1900, up to 2999).
MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"


class PeriodRead(BaseModel):
    month: str = Field(description="`YYYY-MM`", examples=["2026-03"])
    starts_on: date
    ends_on: date
    fiscal_year: int
    status: Status
    closed_at: datetime | None
    closed_by: str | None


class FiscalYearRead(BaseModel):
    fiscal_year: int = Field(description="Named by the calendar year it starts in")
    starts_on: date
    ends_on: date
    status: Status
    entries: int = Field(description="Entries posted into it (its last number)")
    closed_at: datetime | None
    closed_by: str | None


class FiscalYearClosing(BaseModel):
    fiscal_year: FiscalYearRead
    opening_entry: EntryRead | None = Field(
        description="The next year's opening balances; null when there was nothing to carry"
    )

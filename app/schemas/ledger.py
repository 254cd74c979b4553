"""Journal entries as the API shows them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool

from app.domain.accounting.rules import MAX_LINES, TEXT_LENGTH, EntryKind, EntryStatus, Side
from app.schemas.accounting import AccountNumber, Currency
from app.schemas.common import (
    NAME_PATTERN,
    CalendarDate,
    MoneyAmount,
    RequestModel,
    StoredMoney,
)

EntryText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=TEXT_LENGTH,
        pattern=NAME_PATTERN,
        description="The booking text (DATEV's Buchungstext: at most 60 characters)",
        examples=["Ausgangsrechnung RE-2026-0001"],
    ),
    AfterValidator(str.strip),
]
DocumentRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=36,
        pattern=NAME_PATTERN,
        description="The document's number (DATEV's Belegfeld 1), e.g. the invoice number",
        examples=["RE-2026-0001"],
    ),
    AfterValidator(str.strip),
]


SourceType = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_.]{0,39}$", description="The kind of source", examples=["invoice"]
    ),
]
SourceId = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NAME_PATTERN, description="Its id in its area",
          examples=["RE-2026-0001"]),
]  # fmt: skip


class SourceRef(RequestModel):
    """What the entry books, in the area it comes from."""

    type: SourceType
    id: SourceId


class LineWrite(RequestModel):
    account: AccountNumber = Field(description="The account's number in the chart")
    side: Side
    amount: MoneyAmount = Field(description="Greater than zero; `side` says which way it books")
    currency: Currency | None = Field(
        default=None, description="Must be the entry's currency when given"
    )


class EntryWrite(RequestModel):
    document_date: CalendarDate = Field(description="The date on the document (Belegdatum)")
    posting_date: CalendarDate | None = Field(
        default=None,
        description="The date it is booked on, which decides its period; default: the "
        "document date",
    )
    text: EntryText
    document_ref: DocumentRef | None = None
    currency: Currency | None = Field(
        default=None, description="Default: the company's base currency (the only one so far)"
    )
    source: SourceRef | None = None
    lines: list[LineWrite] = Field(
        min_length=2,
        max_length=MAX_LINES,
        description="Two or more; the debits must equal the credits",
    )


class EntryCreate(EntryWrite):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    post: StrictBool = Field(
        default=False,
        description="true: post at once (numbered and fixed); false: keep it as a draft",
    )


class ReversalCreate(RequestModel):
    posting_date: CalendarDate = Field(
        description="The date the reversal is booked on (an open period)"
    )
    text: EntryText | None = Field(
        default=None, description="Default: `Storno <fiscal year>-<number>: <original text>`"
    )


class LineRead(BaseModel):
    line_no: int
    account: str
    account_id: uuid.UUID
    side: Side
    amount: StoredMoney


class SourceRead(BaseModel):
    type: str
    id: str


class EntryRead(BaseModel):
    id: uuid.UUID
    status: EntryStatus
    kind: EntryKind
    fiscal_year: int | None = Field(description="Set when posted")
    number: int | None = Field(description="Gap-free within the fiscal year; set when posted")
    currency: str
    document_date: date
    posting_date: date
    document_ref: str | None
    text: str
    source: SourceRead | None
    lines: list[LineRead]
    reverses_id: uuid.UUID | None = Field(description="The entry this one reverses")
    reversed_by_id: uuid.UUID | None = Field(description="The entry reversing this one")
    previous_hash: str | None = Field(
        description="The hash of the fiscal year's previous entry (empty for the first)"
    )
    hash: str | None = Field(description="SHA-256 over the previous hash and this entry")
    created_by: str
    posted_at: datetime | None
    posted_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class BrokenEntryRead(BaseModel):
    fiscal_year: int
    number: int
    id: uuid.UUID | None = Field(description="null: the entry is gone, or the year's end")
    problem: Literal["gap", "chain", "content", "missing", "anchor"]
    detail: str


class YearChainRead(BaseModel):
    fiscal_year: int
    entries: int = Field(description="Posted entries checked")
    last_number: int = Field(description="The number the year's counter stands at")
    last_hash: str | None = Field(
        description="The hash of the year's last entry: noted down elsewhere, it lets a later "
        "check prove that nothing before it changed"
    )


class IntegrityRead(BaseModel):
    intact: bool
    entries_checked: int
    first_broken: BrokenEntryRead | None = Field(
        description="The first entry (by fiscal year and number) from which the chain is broken"
    )
    balances_drifted: int = Field(
        description="Kept per-month and per-day account totals that differ from the posted lines"
    )
    fiscal_years: list[YearChainRead]

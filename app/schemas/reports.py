"""The reports as the API shows them. Amounts are decimal strings; a balance is debit
positive, report amounts are positive on their natural side."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.domain.accounting.charts import AccountType
from app.schemas.common import StoredMoney


class TrialBalanceRow(BaseModel):
    account: str
    account_id: uuid.UUID
    name: str
    type: AccountType
    debit: StoredMoney
    credit: StoredMoney
    balance: StoredMoney = Field(description="Debit positive, credit negative")


class TrialBalance(BaseModel):
    as_of: date
    fiscal_year: int
    starts_on: date = Field(description="The fiscal year's first day: the totals run from it")
    accounts: list[TrialBalanceRow]
    debit: StoredMoney
    credit: StoredMoney


class ReportAccount(BaseModel):
    account: str
    account_id: uuid.UUID
    name: str
    amount: StoredMoney


class ReportGroup(BaseModel):
    group: str = Field(description="The chart's report group")
    accounts: list[ReportAccount]
    total: StoredMoney


class ReportSection(BaseModel):
    groups: list[ReportGroup]
    total: StoredMoney


class ProfitAndLoss(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    income: ReportSection
    expenses: ReportSection
    result: StoredMoney = Field(description="Income less expenses: a profit is positive")


class BalanceSheet(BaseModel):
    as_of: date
    fiscal_year: int
    assets: ReportSection
    equity: ReportSection
    liabilities: ReportSection
    result: StoredMoney = Field(description="The fiscal year's result so far (part of equity)")
    total_assets: StoredMoney
    total_equity_and_liabilities: StoredMoney


class LedgerAccount(BaseModel):
    id: uuid.UUID
    number: str
    name: str
    type: AccountType


class LedgerLine(BaseModel):
    posting_date: date
    document_date: date
    fiscal_year: int
    number: int
    entry_id: uuid.UUID
    document_ref: str | None
    text: str
    debit: StoredMoney
    credit: StoredMoney
    balance: StoredMoney = Field(description="The running balance after this line")


class GeneralLedger(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    account: LedgerAccount
    from_: date = Field(alias="from")
    to: date
    opening_balance: StoredMoney = Field(
        description="From the fiscal year's start to the day before `from`"
    )
    lines: list[LedgerLine] = Field(description="A page of the span's lines, in journal order")
    debit: StoredMoney = Field(description="The whole span's debits")
    credit: StoredMoney = Field(description="The whole span's credits")
    closing_balance: StoredMoney
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page of lines; null after the last"
    )

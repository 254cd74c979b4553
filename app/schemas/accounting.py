"""The company and its chart of accounts as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool

from app.domain.accounting.charts import AccountType, Chart
from app.schemas.common import NAME_PATTERN, RequestModel, omittable
from app.schemas.partners import City, CountryCode, PartnerName, PostalCode, Street, VatId

AccountNumber = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4,8}$",
        description="4 to 8 digits, as in the chart (SKR03/SKR04 use 4)",
        examples=["8400"],
    ),
]
AccountName = Annotated[PartnerName, Field(description="As in the chart, e.g. `Erlöse 19 % USt`")]
ReportGroup = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NAME_PATTERN),
    AfterValidator(str.strip),
]
TaxKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9]{1,10}$",
        description="The VAT the account carries, e.g. `USt19` (output) or `VSt7` (input)",
    ),
]
TaxNumber = Annotated[
    str,
    Field(
        pattern=r"^[0-9][0-9 /]{8,18}[0-9]$",
        description="The Steuernummer from the tax office, e.g. `143/815/08150`",
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]


class CompanyWrite(RequestModel):
    legal_name: PartnerName
    street: Street
    postal_code: PostalCode
    city: City
    country: CountryCode
    tax_number: TaxNumber | None = None
    vat_id: VatId | None = None
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    base_currency: Currency = "EUR"
    chart: Chart = Field(
        description="The chart of accounts the company is set up from; fixed from the first "
        "journal entry on"
    )


class CompanyRead(BaseModel):
    legal_name: str
    street: str
    postal_code: str
    city: str
    country: str
    tax_number: str | None
    vat_id: str | None
    fiscal_year_start_month: int
    base_currency: str
    chart: Chart
    version: int
    created_at: datetime
    updated_at: datetime


class AccountCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    number: AccountNumber
    name: AccountName
    type: AccountType
    report_group: ReportGroup = Field(description="The report heading it is shown under")
    tax_key: TaxKey | None = None


class AccountUpdate(RequestModel):
    """Only the fields sent change; the number and the type never do. `tax_key` null removes
    it."""

    name: AccountName = omittable()
    report_group: ReportGroup = omittable()
    tax_key: TaxKey | None = None
    is_active: StrictBool = omittable("false: no new postings to it")


class AccountRead(BaseModel):
    id: uuid.UUID
    number: str
    name: str
    type: AccountType
    tax_key: str | None
    report_group: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime

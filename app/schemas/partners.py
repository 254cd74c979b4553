"""Request and response bodies of the partners API.

Requests refuse unknown fields and wrong types (booleans are strict, numbers are no strings);
every value is checked by the partner rules, so a refusal names its field.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

from app.domain.partners import rules
from app.schemas.common import NAME_PATTERN, RequestModel
from app.schemas.identity import Email


def _omittable(description: str | None = None) -> Any:
    """A field a partial update may leave out, but may not send as null (it has a value)."""

    def no_default(schema: dict[str, Any]) -> None:
        schema.pop("default", None)

    return Field(default=None, description=description, json_schema_extra=no_default)


def _vat_id(value: str) -> str:
    return rules.normalize_vat_id(value)


def _country(value: str) -> str:
    return rules.normalize_country(value)


def _postal_code(value: str) -> str:
    return rules.normalize_postal_code(value)


# One line of text: visible characters, no control characters; stripped after the length check.
PartnerName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN), AfterValidator(str.strip)
]
Street = PartnerName
City = Annotated[
    str, Field(min_length=1, max_length=100, pattern=NAME_PATTERN), AfterValidator(str.strip)
]
Phone = Annotated[
    str,
    Field(
        min_length=3,
        max_length=40,
        pattern=r"^\+?[0-9(][0-9 ()/.\-]*[0-9]$",
        description="As dialled, e.g. `+49 30 1234567` or `030 1234567`",
    ),
]
VatId = Annotated[
    str,
    Field(
        max_length=30,
        pattern=rules.VAT_ID_INPUT_PATTERN,
        description="EU VAT number with its country prefix (USt-IdNr `DE136695976`); checked "
        "by its member state's rules and stored compact (no spaces, Greece as `EL`)",
    ),
    AfterValidator(_vat_id),
]
CountryCode = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "enum": list(rules.COUNTRY_CODES),
            "description": "ISO 3166-1 alpha-2, upper case",
        }
    ),
    AfterValidator(_country),
]
PostalCode = Annotated[
    str,
    Field(max_length=16, pattern=rules.POSTAL_CODE_PATTERN, description="Stored in upper case"),
    AfterValidator(_postal_code),
]
# A partner is a customer, a supplier or both: `is_customer` false needs `is_supplier` true
# (its default is false). Said in the contract too, so generated clients know.
_HAS_A_ROLE: dict[str, Any] = {
    "not": {
        "required": ["is_customer"],
        "properties": {"is_customer": {"const": False}, "is_supplier": {"const": False}},
    }
}


class Address(RequestModel):
    street: Street
    street2: Street | None = None
    postal_code: PostalCode | None = Field(
        default=None, description="Leave out only where the country has none"
    )
    city: City
    country: CountryCode

    def to_domain(self) -> rules.PostalAddress:
        return rules.PostalAddress(**self.model_dump())


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    street: str
    street2: str | None
    postal_code: str | None
    city: str
    country: str


class _ContactFields(RequestModel):
    email: Email | None = None
    phone: Phone | None = None
    vat_id: VatId | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None


class PartnerCreate(_ContactFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_HAS_A_ROLE)

    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    name: PartnerName
    is_customer: StrictBool = True
    is_supplier: StrictBool = Field(
        default=False, description="Needs the permission `partners:write`"
    )
    is_active: StrictBool = True

    def to_domain(self) -> rules.PartnerData:
        return rules.PartnerData(**_domain_values(self, set(rules.PARTNER_FIELDS)))


class PartnerUpdate(RequestModel):
    """Only the fields sent change; null clears an optional one."""

    name: PartnerName = _omittable()
    is_customer: StrictBool = _omittable()
    is_supplier: StrictBool = _omittable("Changing it needs the permission `partners:write`")
    email: Email | None = None
    phone: Phone | None = None
    vat_id: VatId | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    is_active: StrictBool = _omittable("false deactivates the partner, true reactivates it")

    def to_changes(self) -> dict[str, Any]:
        return _domain_values(self, self.model_fields_set)


class PartnerUpsert(_ContactFields):
    """The customer as the integration client keeps it. A PUT replaces these fields: one left
    out is cleared. Roles and the active flag are the back office's and stay as they are."""

    name: PartnerName

    def to_fields(self) -> dict[str, Any]:
        return _domain_values(self, set(rules.CLIENT_OWNED_FIELDS))


def _domain_values(body: BaseModel, names: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(body, name)
        values[name] = value.to_domain() if isinstance(value, Address) else value
    return values


class PartnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    is_customer: bool
    is_supplier: bool
    email: str | None
    phone: str | None
    vat_id: str | None = Field(description="Compact, e.g. `DE136695976`")
    billing_address: AddressRead | None
    shipping_address: AddressRead | None
    is_active: bool = Field(description="false: deactivated (still listed, as a tombstone)")
    external_id: str | None = Field(
        description="The calling integration client's own id for this partner, if it has one"
    )
    version: int
    created_at: datetime
    updated_at: datetime

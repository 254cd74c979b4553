"""Business-partner rules, free of the database: what a partner record holds, how its values are
normalized and checked (EU VAT ids by python-stdnum, countries by ISO 3166-1 from pycountry),
and which fields a caller may set.

Errors name the field as a JSON Pointer into the request body (`/vat_id`,
`/billing_address/country`), so the API can say which value was refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pycountry
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.domain.errors import FieldError, InvalidInput

# ISO 3166-1 alpha-2, as the Debian iso-codes data that pycountry ships lists it (249 codes).
COUNTRY_CODES: tuple[str, ...] = tuple(sorted(c.alpha_2 for c in pycountry.countries))
_COUNTRIES = frozenset(COUNTRY_CODES)

# What the API accepts as a VAT id before normalizing: the two-letter country prefix, then
# digits and letters, optionally grouped by spaces, dots or dashes ("DE 136 695 976").
VAT_ID_INPUT_PATTERN = r"^[A-Za-z]{2}[0-9A-Za-z+*. -]{2,28}$"
# What is stored: the compact form, as the database's CHECK constraint also says.
VAT_ID_COMPACT_PATTERN = r"^[A-Z]{2}[0-9A-Z+*]{2,18}$"
_VAT_ID_COMPACT = re.compile(VAT_ID_COMPACT_PATTERN)

# An integration client's own id for a partner: 1-100 visible ASCII characters. It travels as
# one URL path segment, so no "/" and no leading "." (clients collapse "." and ".." segments).
EXTERNAL_ID_PATTERN = r"^[\x21-\x2d\x30-\x7e][\x21-\x2e\x30-\x7e]{0,99}$"
_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN)

POSTAL_CODE_PATTERN = r"^[0-9A-Za-z]([0-9A-Za-z -]{0,14}[0-9A-Za-z])?$"
_POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)

# The permission that makes a caller the back office's: it may keep suppliers. Sales staff and
# the webshop (sales:customers:write) keep to customers.
SUPPLIERS_PERMISSION = "partners:write"

# The fields a client's PUT by external id replaces: the customer's own master data. Roles and
# the active flag are the back office's; a shop that syncs must not undo what it decided.
CLIENT_OWNED_FIELDS = (
    "name",
    "email",
    "phone",
    "vat_id",
    "billing_address",
    "shipping_address",
)


class InvalidValue(ValueError):
    """A value no partner may hold; the message says why and is safe to show."""


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    postal_code: str | None = None  # some countries have none
    street2: str | None = None


@dataclass(frozen=True, slots=True)
class PartnerData:
    """Everything about a partner that a caller can set."""

    name: str
    is_customer: bool = True
    is_supplier: bool = False
    email: str | None = None
    phone: str | None = None
    vat_id: str | None = None
    billing_address: PostalAddress | None = None
    shipping_address: PostalAddress | None = None
    is_active: bool = True


PARTNER_FIELDS = frozenset(f.name for f in dataclasses.fields(PartnerData))


def normalize_vat_id(raw: str) -> str:
    """The compact form of an EU VAT number (`DE136695976`), checked by its member state's own
    rules (length, check digits). Greek numbers get the prefix `EL` that VIES uses, also when
    sent as `GR`. Northern Ireland's `XI` is accepted; non-EU numbers are not."""
    try:
        compact: str = eu_vat.validate(raw)
    except StdnumValidationError as exc:
        reason = str(exc).rstrip(".")
        raise InvalidValue(f"not a valid EU VAT id: {reason[:1].lower()}{reason[1:]}") from exc
    if compact.startswith("GR"):
        compact = "EL" + compact[2:]
    if not _VAT_ID_COMPACT.fullmatch(compact):  # python-stdnum compacts to this; make sure
        raise InvalidValue("not a valid EU VAT id")
    return compact


def normalize_country(raw: str) -> str:
    if raw not in _COUNTRIES:
        raise InvalidValue(f"{raw!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE)")
    return raw


def normalize_postal_code(raw: str) -> str:
    code = " ".join(raw.split()).upper()
    if not _POSTAL_CODE.fullmatch(code):
        raise InvalidValue("a postal code is 1-16 letters, digits, spaces and dashes")
    return code


def check_external_id(raw: str) -> str:
    if not _EXTERNAL_ID.fullmatch(raw):
        raise InvalidValue(
            "an external id is 1-100 visible ASCII characters, without '/', not starting with '.'"
        )
    return raw


def _text(value: str, *, max_length: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidValue("must not be empty")
    if len(text) > max_length:
        raise InvalidValue(f"at most {max_length} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidValue("must not contain control characters")
    return text


def _optional_text(value: str | None, *, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _text(value, max_length=max_length)


class _Collector:
    """Gathers every bad value of one record, so the caller hears of all of them at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def take(self, pointer: str, check: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except InvalidValue as exc:
            self.errors.append(FieldError(str(exc), pointer=pointer))
            return None


def _checked_address(
    address: PostalAddress | None, pointer: str, found: _Collector
) -> PostalAddress | None:
    if address is None:
        return None
    postal_code = address.postal_code
    return PostalAddress(
        street=found.take(f"{pointer}/street", _text, address.street, max_length=200),
        street2=found.take(f"{pointer}/street2", _optional_text, address.street2, max_length=200),
        postal_code=(
            found.take(f"{pointer}/postal_code", normalize_postal_code, postal_code)
            if postal_code is not None and postal_code.strip()
            else None
        ),
        city=found.take(f"{pointer}/city", _text, address.city, max_length=100),
        country=found.take(f"{pointer}/country", normalize_country, address.country),
    )


def role_errors(is_customer: bool, is_supplier: bool) -> list[FieldError]:
    if is_customer or is_supplier:
        return []
    detail = "a partner is a customer, a supplier or both"
    return [FieldError(detail, pointer="/is_customer"), FieldError(detail, pointer="/is_supplier")]


def checked(data: PartnerData) -> PartnerData:
    """`data` normalized (whitespace collapsed, VAT id compact, postal code upper-case);
    InvalidInput naming every field that no partner may hold."""
    found = _Collector()
    email = data.email.strip() if data.email is not None and data.email.strip() else None
    vat_id = data.vat_id
    result = PartnerData(
        name=found.take("/name", _text, data.name, max_length=200),
        is_customer=data.is_customer,
        is_supplier=data.is_supplier,
        email=found.take("/email", _optional_text, email, max_length=254),
        phone=found.take("/phone", _optional_text, data.phone, max_length=40),
        vat_id=(
            found.take("/vat_id", normalize_vat_id, vat_id)
            if vat_id is not None and vat_id.strip()
            else None
        ),
        billing_address=_checked_address(data.billing_address, "/billing_address", found),
        shipping_address=_checked_address(data.shipping_address, "/shipping_address", found),
        is_active=data.is_active,
    )
    found.errors.extend(role_errors(result.is_customer, result.is_supplier))
    if found.errors:
        raise InvalidInput("the partner has invalid values", found.errors)
    return result


def with_changes(current: PartnerData, changes: Mapping[str, Any]) -> PartnerData:
    """`current` with the given fields replaced (a partial update)."""
    unknown = set(changes) - PARTNER_FIELDS
    if unknown:
        raise InvalidInput(
            "unknown fields",
            [FieldError("not a partner field", pointer=f"/{name}") for name in sorted(unknown)],
        )
    return dataclasses.replace(current, **changes)


def new_customer(fields: Mapping[str, Any]) -> PartnerData:
    """A partner created by a client's PUT by external id: an active customer."""
    return PartnerData(**_client_owned(fields))


def with_client_fields(current: PartnerData, fields: Mapping[str, Any]) -> PartnerData:
    """What a client's PUT by external id makes of an existing partner: its own fields replaced
    (left-out optional ones cleared), roles and active flag as the back office keeps them."""
    return dataclasses.replace(current, **_client_owned(fields))


def _client_owned(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CLIENT_OWNED_FIELDS)
    if unknown:
        raise InvalidInput(
            "fields a client does not set by external id",
            [FieldError("not settable here", pointer=f"/{name}") for name in sorted(unknown)],
        )
    return {name: fields.get(name) for name in CLIENT_OWNED_FIELDS}


def fields_caller_may_not_set(
    permissions: Iterable[str], current: PartnerData | None, wanted: PartnerData
) -> list[str]:
    """The fields of `wanted` the caller may not give those values.

    Without `partners:write` (sales staff, the webshop) a caller keeps to customers: it may not
    make a partner a supplier or stop it being one, nor take away its customer role. Everything
    else about a partner it may see, it may change.
    """
    if SUPPLIERS_PERMISSION in set(permissions):
        return []
    refused = []
    was_supplier = current.is_supplier if current is not None else False
    if wanted.is_supplier != was_supplier:
        refused.append("is_supplier")
    was_customer = current.is_customer if current is not None else True
    if was_customer and not wanted.is_customer:
        refused.append("is_customer")
    return refused


def change_action(before: PartnerData, after: PartnerData) -> str:
    """The audit log's name for a change: deactivation and reactivation stand out."""
    if (
        before.is_active != after.is_active
        and dataclasses.replace(before, is_active=after.is_active) == after
    ):
        return "partner.reactivate" if after.is_active else "partner.deactivate"
    return "partner.update"


def snapshot(data: PartnerData) -> dict[str, Any]:
    """The audit log's before/after picture of a partner (JSON-ready)."""
    return dataclasses.asdict(data)

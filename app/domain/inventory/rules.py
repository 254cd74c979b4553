"""Inventory rules that need no database: codes, quantities, and what a movement books."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import pycountry
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

from app.domain.errors import invalid
from app.domain.inventory.units import UNIT_CODES

CURRENCY_CODES: tuple[str, ...] = tuple(sorted(c.alpha_3 for c in pycountry.currencies))
QUANTITY_PLACES = 3
MAX_QUANTITY = Decimal("999999999999999.999")  # NUMERIC(18, 3)
_HS_CODE = re.compile(r"^[0-9]{6,10}$")


class VatCategory(StrEnum):
    standard = "standard"
    reduced = "reduced"
    zero = "zero"


class MovementKind(StrEnum):
    receipt = "receipt"
    issue = "issue"
    transfer = "transfer"
    adjustment = "adjustment"
    stock_count = "count"
    reservation = "reservation"
    shipment = "shipment"
    release = "release"


def normalize_sku(sku: str) -> str:
    """SKUs are case-sensitive; surrounding whitespace is never part of one."""
    trimmed = sku.strip()
    if not trimmed:
        raise invalid("/sku", "must not be empty")
    return trimmed


def check_unit_code(code: str) -> str:
    if code not in UNIT_CODES:
        raise invalid("/unit_code", "is not a known UN/ECE Recommendation 20 unit code")
    return code


def normalize_gtin(gtin: str | None) -> str | None:
    """A GTIN-8, -12, -13 or -14 with a valid check digit, stored without spaces."""
    if gtin is None:
        return None
    try:
        compact: str = ean.validate(gtin)
    except StdnumError as exc:
        raise invalid("/gtin", "is not a valid GTIN (length or check digit)") from exc
    return compact


def check_currency(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None or code != code.upper():
        raise invalid("/currency", "is not an ISO 4217 currency code")
    return code


def check_country(code: str | None, pointer: str) -> str | None:
    if code is None:
        return None
    if code != code.upper() or pycountry.countries.get(alpha_2=code) is None:
        raise invalid(pointer, "is not an ISO 3166-1 alpha-2 country code")
    return code


def check_hs_code(code: str | None) -> str | None:
    if code is not None and not _HS_CODE.fullmatch(code):
        raise invalid("/hs_code", "must be 6 to 10 digits (HS / Combined Nomenclature)")
    return code


def check_quantity(value: Decimal, pointer: str, *, allow_zero: bool = False) -> Decimal:
    """A finite quantity with at most three decimals, positive unless zero is allowed."""
    if not value.is_finite() or -value.as_tuple().exponent > QUANTITY_PLACES:  # type: ignore[operator]
        raise invalid(pointer, f"must have at most {QUANTITY_PLACES} decimals")
    if value < 0 or (value == 0 and not allow_zero):
        raise invalid(
            pointer, "must be greater than zero" if not allow_zero else "must not be negative"
        )
    if value > MAX_QUANTITY:
        raise invalid(pointer, "is too large")
    return value


@dataclass(frozen=True, slots=True)
class Leg:
    """What a movement does to one balance."""

    warehouse_id: uuid.UUID
    on_hand_delta: Decimal


def legs_of(
    kind: MovementKind,
    quantity: Decimal,
    warehouse_id: uuid.UUID,
    to_warehouse_id: uuid.UUID | None = None,
) -> list[Leg]:
    """The balance changes of a receipt, issue, adjustment (signed quantity) or transfer, in
    warehouse-id order: rows are always locked in the same order, so two movements never wait
    on each other crosswise."""
    if kind is MovementKind.transfer:
        if to_warehouse_id is None or to_warehouse_id == warehouse_id:
            raise invalid("/to_warehouse_id", "must name another warehouse")
        legs = [Leg(warehouse_id, -quantity), Leg(to_warehouse_id, quantity)]
    elif kind is MovementKind.issue:
        legs = [Leg(warehouse_id, -quantity)]
    else:
        legs = [Leg(warehouse_id, quantity)]
    return sorted(legs, key=lambda leg: leg.warehouse_id)

"""Inventory rules without a database."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from app.domain.errors import InvalidInput
from app.domain.inventory import rules
from app.domain.inventory.rules import MovementKind


def test_a_sku_is_trimmed_but_keeps_its_case() -> None:
    assert rules.normalize_sku("  Ab-12 ") == "Ab-12"
    with pytest.raises(InvalidInput):
        rules.normalize_sku("   ")


@pytest.mark.parametrize("gtin", ["4006381333931", "96385074", "036000291452", "10614141000415"])
def test_valid_gtins_pass(gtin: str) -> None:
    assert rules.normalize_gtin(gtin) == gtin


@pytest.mark.parametrize("gtin", ["4006381333932", "1234567", "400638133393X"])
def test_a_gtin_with_a_wrong_check_digit_or_length_is_refused(gtin: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.normalize_gtin(gtin)
    assert caught.value.errors[0].pointer == "/gtin"


def test_currencies_and_countries_are_iso_codes() -> None:
    assert rules.check_currency("EUR") == "EUR"
    assert rules.check_country("DE", "/country") == "DE"
    for bad in ("XYZ", "eur"):
        with pytest.raises(InvalidInput):
            rules.check_currency(bad)
    with pytest.raises(InvalidInput):
        rules.check_country("XX", "/country")


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1", True), ("0.001", True), ("0.0001", False), ("0", False), ("-1", False)],
)
def test_quantities_are_positive_with_at_most_three_decimals(value: str, ok: bool) -> None:
    if ok:
        assert rules.check_quantity(Decimal(value), "/q") == Decimal(value)
    else:
        with pytest.raises(InvalidInput):
            rules.check_quantity(Decimal(value), "/q")


def test_a_transfer_has_two_legs_in_warehouse_order() -> None:
    a, b = sorted([uuid.uuid4(), uuid.uuid4()])
    for source, target in ((a, b), (b, a)):
        legs = rules.legs_of(MovementKind.transfer, Decimal(4), source, target)
        assert [leg.warehouse_id for leg in legs] == [a, b]
        deltas = {leg.warehouse_id: leg.on_hand_delta for leg in legs}
        assert deltas == {source: Decimal(-4), target: Decimal(4)}


def test_a_transfer_needs_another_warehouse() -> None:
    a = uuid.uuid4()
    with pytest.raises(InvalidInput):
        rules.legs_of(MovementKind.transfer, Decimal(1), a, a)


def test_an_issue_takes_and_a_receipt_adds() -> None:
    a = uuid.uuid4()
    assert rules.legs_of(MovementKind.issue, Decimal(2), a)[0].on_hand_delta == Decimal(-2)
    assert rules.legs_of(MovementKind.receipt, Decimal(2), a)[0].on_hand_delta == Decimal(2)

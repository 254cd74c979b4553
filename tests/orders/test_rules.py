"""Order rules without a database: amounts, VAT per rate, totals, the lifecycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.errors import Conflict, InvalidInput
from app.domain.orders import rules
from app.domain.orders.rules import OrderStatus, PricedLine


def test_vat_is_rounded_once_per_rate_not_per_line() -> None:
    # 19 % of 0.02 is 0.0038, 0.00 per line; on the rate's sum of 0.20 it is 0.038 -> 0.04.
    lines = [PricedLine(Decimal(1), Decimal("0.02"), "standard")] * 10
    totals = rules.totals(lines)
    assert totals.net == Decimal("0.20")
    assert totals.vat == Decimal("0.04")
    assert totals.gross == Decimal("0.24")


def test_rates_are_listed_highest_first_with_their_own_sums() -> None:
    lines = [
        PricedLine(Decimal(2), Decimal("18.90"), "reduced"),
        PricedLine(Decimal(6), Decimal("4.90"), "standard"),
        PricedLine(Decimal(1), Decimal("3.00"), "zero"),
    ]
    totals = rules.totals(lines)
    assert [(s.category, s.net, s.vat) for s in totals.breakdown] == [
        ("standard", Decimal("29.40"), Decimal("5.59")),
        ("reduced", Decimal("37.80"), Decimal("2.65")),
        ("zero", Decimal("3.00"), Decimal("0.00")),
    ]
    assert totals.gross == totals.net + totals.vat == Decimal("78.44")


def test_line_amounts_round_half_up_to_the_cent() -> None:
    assert PricedLine(Decimal("0.5"), Decimal("0.05"), "standard").net_amount == Decimal("0.03")


def test_amounts_beyond_the_money_columns_are_refused_naming_the_line() -> None:
    huge = PricedLine(Decimal("999999999999999"), Decimal("999999999999999.99"), "standard")
    with pytest.raises(InvalidInput) as caught:
        rules.check_amounts([PricedLine(Decimal(1), Decimal(1), "zero"), huge])
    assert caught.value.errors[0].pointer == "/lines/1/quantity"
    near = PricedLine(Decimal(1), Decimal("9000000000000000.00"), "standard")
    with pytest.raises(InvalidInput):  # fits as net, not as gross with 19 %
        rules.check_amounts([near])


@pytest.mark.parametrize("status", [OrderStatus.fulfilled, OrderStatus.cancelled])
def test_only_open_orders_can_be_shipped_or_cancelled(status: OrderStatus) -> None:
    with pytest.raises(Conflict):
        rules.check_open(status, "cancelled")
    rules.check_open(OrderStatus.partially_shipped, "shipped")

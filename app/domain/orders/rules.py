"""Order rules that need no database: line amounts, VAT per rate, totals, the lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from app.domain.errors import Conflict, FieldError, InvalidInput

CENT = Decimal("0.01")
# NUMERIC(18, 2): what a line amount or a total can hold.
MAX_AMOUNT = Decimal("9999999999999999.99")

# German VAT (UStG §12): 19 % standard, 7 % reduced. A per-company table comes with
# accounting; until then these are the rates an order is computed with.
VAT_RATES: dict[str, Decimal] = {
    "standard": Decimal("19.00"),
    "reduced": Decimal("7.00"),
    "zero": Decimal("0.00"),
}


class OrderStatus(StrEnum):
    reserved = "reserved"
    partially_shipped = "partially_shipped"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    expired = "expired"


OPEN = frozenset({OrderStatus.reserved, OrderStatus.partially_shipped})


def money(value: Decimal) -> Decimal:
    """Commercial rounding to the cent (half up), as German invoices round."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PricedLine:
    quantity: Decimal
    unit_price: Decimal
    vat_category: str

    @property
    def net_amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)


@dataclass(frozen=True, slots=True)
class VatShare:
    category: str
    rate: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    breakdown: list[VatShare]


def totals(lines: Sequence[PricedLine]) -> Totals:
    """Net per line (rounded), VAT per rate on the rate's net sum (rounded once per rate, not
    per line), gross = net + VAT."""
    nets: dict[str, Decimal] = {}
    for line in lines:
        nets[line.vat_category] = nets.get(line.vat_category, Decimal(0)) + line.net_amount
    breakdown = [
        VatShare(category, VAT_RATES[category], net, money(net * VAT_RATES[category] / 100))
        for category, net in sorted(nets.items(), key=lambda kv: -VAT_RATES[kv[0]])
    ]
    net = sum((share.net for share in breakdown), Decimal(0))
    vat = sum((share.vat for share in breakdown), Decimal(0))
    return Totals(net, vat, net + vat, breakdown)


def check_lines(quantities: Sequence[Decimal]) -> None:
    """Every line orders something."""
    errors = [
        FieldError("must be greater than zero", pointer=f"/lines/{index}/quantity")
        for index, quantity in enumerate(quantities)
        if quantity <= 0
    ]
    if errors:
        raise InvalidInput("some lines order nothing", errors)


def check_amounts(lines: Sequence[PricedLine]) -> None:
    """Every line's amount, and the order's gross total with the highest VAT rate, fit the
    money columns (computed with enough digits that no product is ever rounded away)."""
    with localcontext() as context:
        context.prec = 60
        amounts = [line.quantity * line.unit_price for line in lines]
        errors = [
            FieldError("the line's amount is too large", pointer=f"/lines/{index}/quantity")
            for index, amount in enumerate(amounts)
            if amount > MAX_AMOUNT
        ]
        if errors:
            raise InvalidInput("some lines' amounts are too large", errors)
        highest_rate = max(VAT_RATES.values())
        if sum(amounts, Decimal(0)) * (1 + highest_rate / 100) > MAX_AMOUNT:
            raise InvalidInput(
                "the order's total is too large",
                [FieldError("the order's total is too large", pointer="/lines")],
            )


def check_open(status: OrderStatus, action: str) -> None:
    """Only an open order (reserved or partially shipped) can be shipped or cancelled."""
    if status not in OPEN:
        raise Conflict(f"an order that is {status.value} cannot be {action}")


def status_after_shipment(remaining: Decimal) -> OrderStatus:
    return OrderStatus.fulfilled if remaining == 0 else OrderStatus.partially_shipped

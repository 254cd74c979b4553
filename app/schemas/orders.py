"""Request and response bodies of the orders API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from app.domain.inventory.rules import VatCategory
from app.domain.orders.rules import OrderStatus
from app.schemas.common import (
    LINE_PATTERN,
    Instant,
    MoneyAmount,
    Name,
    PositiveQuantity,
    RequestModel,
    StoredMoney,
    StoredQuantity,
    WholeNumber,
)
from app.schemas.inventory import CurrencyCode, Sku
from app.schemas.partners import CountryCode

MAX_LINES = 500
LineNumber = Annotated[
    WholeNumber,
    Field(ge=1, le=MAX_LINES),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LINES}),
]
ExternalId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]


class ShippingAddress(RequestModel):
    name: Name
    street: Annotated[str, Field(min_length=1, max_length=200, pattern=LINE_PATTERN)]
    postal_code: Annotated[str, Field(min_length=1, max_length=20, pattern=LINE_PATTERN)]
    city: Annotated[str, Field(min_length=1, max_length=100, pattern=LINE_PATTERN)]
    country: CountryCode


class OrderLineCreate(RequestModel):
    sku: Sku
    quantity: PositiveQuantity
    unit_price: MoneyAmount = Field(description="Net unit price in the order's currency")
    vat_category: VatCategory


class OrderCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    external_id: ExternalId | None = Field(
        default=None, description="The client's own order number; never booked twice"
    )
    customer_id: uuid.UUID | None = Field(default=None, description="The customer's partner id")
    customer_external_id: ExternalId | None = Field(
        default=None, description="Or the client's own id of the customer"
    )
    warehouse_id: uuid.UUID | None = Field(
        default=None, description="Ships from here; the client's default when omitted"
    )
    shipping_address: ShippingAddress | None = Field(
        default=None, description="The customer's shipping address when omitted"
    )
    currency: CurrencyCode = "EUR"
    reserve_until: Instant | None = Field(
        default=None, description="Reservation expires then unless the order was fulfilled"
    )
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=MAX_LINES)


class ShipmentLine(RequestModel):
    line_no: LineNumber
    quantity: PositiveQuantity


class ShipmentCreate(RequestModel):
    lines: list[ShipmentLine] | None = Field(
        default=None, max_length=500, description="Omit to ship everything still open"
    )


class ChannelSettings(RequestModel):
    default_warehouse_id: uuid.UUID


class OrderLineRead(BaseModel):
    line_no: int
    item_id: uuid.UUID
    sku: str
    name: str
    quantity: StoredQuantity
    shipped: StoredQuantity
    unit_price: StoredMoney
    vat_category: VatCategory
    vat_rate: StoredMoney = Field(description="Percent")
    net_amount: StoredMoney


class VatShareRead(BaseModel):
    category: VatCategory
    rate: StoredMoney
    net: StoredMoney
    vat: StoredMoney


class ShippingAddressRead(BaseModel):
    name: str
    street: str
    postal_code: str
    city: str
    country: str


class OrderRead(BaseModel):
    id: uuid.UUID
    external_id: str | None
    customer_id: uuid.UUID
    warehouse_id: uuid.UUID
    status: OrderStatus
    currency: str
    shipping_address: ShippingAddressRead
    lines: list[OrderLineRead]
    net_total: StoredMoney
    vat_total: StoredMoney
    gross_total: StoredMoney
    vat_breakdown: list[VatShareRead]
    reserve_until: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

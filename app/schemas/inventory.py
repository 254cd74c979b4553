"""Request and response bodies of the inventory API: items, warehouses, movements, stock."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

from app.domain.inventory.rules import CURRENCY_CODES, MovementKind, VatCategory
from app.domain.inventory.units import UNIT_CODES
from app.schemas.common import (
    ASCII_SPACE,
    LINE_PATTERN,
    TEXT_PATTERN,
    MoneyAmount,
    Name,
    NonzeroQuantity,
    PositiveQuantity,
    Quantity,
    RequestModel,
    StoredMoney,
    StoredQuantity,
    omittable,
)
from app.schemas.partners import CountryCode

# Visible characters and inner spaces; surrounding whitespace is trimmed by the server.
Sku = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=rf"^{ASCII_SPACE}*[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?{ASCII_SPACE}*$",
    ),
]
# The code lists go into the contract whole (WithJsonSchema), so a partial update can still
# mark the field as omittable.
UnitCode = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(UNIT_CODES)})]
Gtin = Annotated[str, Field(pattern=r"^[0-9]{8}$|^[0-9]{12,14}$", description="GTIN-8/12/13/14")]
CurrencyCode = Annotated[
    str,
    WithJsonSchema({"type": "string", "enum": list(CURRENCY_CODES), "description": "ISO 4217"}),
]
HsCode = Annotated[str, Field(pattern=r"^[0-9]{6,10}$", description="HS / CN commodity code")]
Description = Annotated[str, Field(max_length=4000, pattern=TEXT_PATTERN)]
Line = Annotated[str, Field(max_length=200, pattern=LINE_PATTERN)]
WarehouseCode = Annotated[
    str, Field(min_length=1, max_length=20, pattern=rf"^{ASCII_SPACE}*[\x21-\x7e]+{ASCII_SPACE}*$")
]
Reason = Annotated[str, Field(max_length=500, pattern=LINE_PATTERN)]
Reference = Annotated[str, Field(max_length=100, pattern=LINE_PATTERN)]


class ItemCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    sku: Sku
    name: Name
    description: Description = ""
    unit_code: UnitCode = Field(description="UN/ECE Recommendation 20 unit code")
    gtin: Gtin | None = None
    net_price: MoneyAmount = Field(description="Net list price")
    currency: CurrencyCode = "EUR"
    vat_category: VatCategory
    reorder_point: Quantity | None = None
    safety_stock: Quantity = Decimal(0)
    weight_kg: PositiveQuantity | None = None
    hs_code: HsCode | None = None
    country_of_origin: CountryCode | None = None
    is_active: StrictBool = True


class ItemUpdate(RequestModel):
    """Only the fields sent change; null clears an optional field (GTIN, reorder point,
    weight, HS code, country of origin)."""

    sku: Sku = omittable()
    name: Name = omittable()
    description: Description = omittable()
    unit_code: UnitCode = omittable()
    gtin: Gtin | None = None
    net_price: MoneyAmount = omittable()
    currency: CurrencyCode = omittable()
    vat_category: VatCategory = omittable()
    reorder_point: Quantity | None = None
    safety_stock: Quantity = omittable()
    weight_kg: PositiveQuantity | None = None
    hs_code: HsCode | None = None
    country_of_origin: CountryCode | None = None
    is_active: StrictBool = omittable("false deactivates the item")


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    name: str
    description: str
    unit_code: str
    gtin: str | None
    net_price: StoredMoney
    currency: str
    vat_category: VatCategory
    reorder_point: StoredQuantity | None
    safety_stock: StoredQuantity
    weight_kg: StoredQuantity | None
    hs_code: str | None
    country_of_origin: str | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class WarehouseCreate(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    code: WarehouseCode
    name: Name
    street: Line = ""
    postal_code: Annotated[str, Field(max_length=20, pattern=LINE_PATTERN)] = ""
    city: Annotated[str, Field(max_length=100, pattern=LINE_PATTERN)] = ""
    country: CountryCode = "DE"
    is_active: StrictBool = True


class WarehouseUpdate(RequestModel):
    """Only the fields sent change."""

    code: WarehouseCode = omittable()
    name: Name = omittable()
    street: Line = omittable()
    postal_code: Annotated[str, Field(max_length=20, pattern=LINE_PATTERN)] = omittable()
    city: Annotated[str, Field(max_length=100, pattern=LINE_PATTERN)] = omittable()
    country: CountryCode = omittable()
    is_active: StrictBool = omittable("false deactivates the warehouse")


class WarehouseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    street: str
    postal_code: str
    city: str
    country: str
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class _MovementBase(RequestModel):
    id: uuid.UUID | None = Field(default=None, description="Client-supplied id (optional)")
    item_id: uuid.UUID
    warehouse_id: uuid.UUID
    reference: Reference | None = Field(default=None, description="Delivery note, order, ...")


class ReceiptCreate(_MovementBase):
    kind: Literal["receipt"]
    quantity: PositiveQuantity
    reason: Reason | None = None


class IssueCreate(_MovementBase):
    kind: Literal["issue"]
    quantity: PositiveQuantity
    reason: Reason | None = None


class TransferCreate(_MovementBase):
    """Moves stock from `warehouse_id` to `to_warehouse_id`: both legs or neither."""

    kind: Literal["transfer"]
    quantity: PositiveQuantity
    to_warehouse_id: uuid.UUID
    reason: Reason | None = None


class AdjustmentCreate(_MovementBase):
    """A signed correction (breakage, found goods); the reason is required."""

    kind: Literal["adjustment"]
    quantity: NonzeroQuantity
    reason: Reason


class CountCreate(_MovementBase):
    """A stock count: books the difference between `counted` and what the system expected."""

    kind: Literal["count"]
    counted: Quantity
    reason: Reason | None = None


MovementCreate = Annotated[
    ReceiptCreate | IssueCreate | TransferCreate | AdjustmentCreate | CountCreate,
    Field(discriminator="kind"),
]


class MovementLineRead(BaseModel):
    item_id: uuid.UUID
    warehouse_id: uuid.UUID
    on_hand_delta: StoredQuantity
    reserved_delta: StoredQuantity


class MovementRead(BaseModel):
    id: uuid.UUID
    kind: MovementKind
    item_id: uuid.UUID | None = Field(description="null for an order's movements (see lines)")
    sku: str | None
    order_id: uuid.UUID | None
    quantity: StoredQuantity | None = Field(
        description="Positive; signed for adjustments and counts; null for an order's"
    )
    counted: StoredQuantity | None
    expected: StoredQuantity | None
    reason: str | None
    reference: str | None
    created_by: str
    created_at: datetime
    lines: list[MovementLineRead] = Field(description="What the movement did to each balance")


class StockLevel(BaseModel):
    item_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID | None = Field(description="null when summed over warehouses")
    warehouse_code: str | None
    on_hand: StoredQuantity
    reserved: StoredQuantity
    available: StoredQuantity = Field(description="on_hand - reserved")
    available_for_sale: StoredQuantity = Field(description="max(0, available - safety_stock)")
    updated_at: datetime


class StockPage(BaseModel):
    items: list[StockLevel]
    next_cursor: str | None


class LowStockItem(BaseModel):
    id: uuid.UUID
    sku: str
    name: str
    reorder_point: StoredQuantity
    available: StoredQuantity
    updated_at: datetime

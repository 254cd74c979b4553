"""Items and warehouses: creation, changes, deactivation. Every change is audited; item
changes are also published for the shop's mirror."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.inventory import Item, Warehouse
from app.db.repositories import inventory as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound, invalid, missing
from app.domain.events.service import Event, publish
from app.domain.events.types import EventType
from app.domain.inventory import rules

_ITEM_UPDATE = AuditedChange("inventory.item.update", "inventory_item")
_WAREHOUSE_UPDATE = AuditedChange("inventory.warehouse.update", "inventory_warehouse")


@dataclass(frozen=True, slots=True)
class ItemFields:
    """An item's settable fields; in a change, None means "leave as it is" except where the
    change names the field in `clear`."""

    sku: str | None = None
    name: str | None = None
    description: str | None = None
    unit_code: str | None = None
    gtin: str | None = None
    net_price: Decimal | None = None
    currency: str | None = None
    vat_category: str | None = None
    reorder_point: Decimal | None = None
    safety_stock: Decimal | None = None
    weight_kg: Decimal | None = None
    hs_code: str | None = None
    country_of_origin: str | None = None
    is_active: bool | None = None


# Optional fields a change may set back to "none".
CLEARABLE_ITEM_FIELDS = frozenset(
    {"gtin", "reorder_point", "weight_kg", "hs_code", "country_of_origin"}
)


def _checked_item_fields(given: ItemFields) -> dict[str, Any]:
    """The given fields, normalized and validated; None values left out."""
    values = {f.name: getattr(given, f.name) for f in fields(given)}
    values = {k: v for k, v in values.items() if v is not None}
    checks: dict[str, Callable[[Any], Any]] = {
        "sku": rules.normalize_sku,
        "unit_code": rules.check_unit_code,
        "gtin": rules.normalize_gtin,
        "currency": rules.check_currency,
        "hs_code": rules.check_hs_code,
        "country_of_origin": lambda v: rules.check_country(v, "/country_of_origin"),
        "reorder_point": lambda v: rules.check_quantity(v, "/reorder_point", allow_zero=True),
        "safety_stock": lambda v: rules.check_quantity(v, "/safety_stock", allow_zero=True),
        "weight_kg": lambda v: rules.check_quantity(v, "/weight_kg"),
    }
    for name, check in checks.items():
        if name in values:
            values[name] = check(values[name])
    for name in ("name", "description"):
        if name in values:
            values[name] = values[name].strip()
    return values


def item_snapshot(item: Item) -> dict[str, Any]:
    snapshot = {f.name: getattr(item, f.name) for f in fields(ItemFields)}
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in snapshot.items()}


def warehouse_snapshot(warehouse: Warehouse) -> dict[str, Any]:
    names = ("code", "name", "street", "postal_code", "city", "country", "is_active")
    return {name: getattr(warehouse, name) for name in names}


def _item_event(item: Item) -> Event:
    return Event(EventType.item_changed, item.id, {"version": item.version, **item_snapshot(item)})


async def create_item(
    session: AsyncSession, actor: Actor, given: ItemFields, item_id: uuid.UUID | None = None
) -> Item:
    """SKUs are unique (case-sensitive, trimmed); GTINs carry a valid check digit; the price is
    a net list price in an ISO 4217 currency."""
    item = Item(id=item_id or uuid.uuid4(), **_checked_item_fields(given))
    try:
        await repo.add(session, item)
    except IntegrityError as exc:
        raise Conflict("an item with this id or SKU exists") from exc
    await record_change(
        session,
        actor,
        action="inventory.item.create",
        resource_type="inventory_item",
        resource_id=item.id,
        before=None,
        after=item_snapshot(item),
    )
    await publish(session, [_item_event(item)])
    return item


async def update_item(
    session: AsyncSession,
    actor: Actor,
    item_id: uuid.UUID,
    expected: ExpectedVersion,
    given: ItemFields,
    clear: Sequence[str] = (),
) -> Item:
    """Changes the given fields (and clears the optional ones named in `clear`). Deactivating
    keeps the item and its ledger; the mirror sees `is_active: false`."""
    for name in clear:
        if name not in CLEARABLE_ITEM_FIELDS:
            raise invalid(f"/{name}", "cannot be null")
    item = await repo.load_item(session, item_id)
    if item is None:
        raise NotFound("no such item")
    values = _checked_item_fields(given)

    def apply(target: Item) -> None:
        for name, value in values.items():
            setattr(target, name, value)
        for name in clear:
            setattr(target, name, None)

    try:
        changed = await apply_audited_change(
            session,
            actor,
            item,
            expected=expected,
            snapshot=item_snapshot,
            apply=apply,
            change=_ITEM_UPDATE,
        )
    except IntegrityError as exc:
        raise Conflict("another item has this SKU") from exc
    if changed:
        await publish(session, [_item_event(item)])
    return item


async def get_item(reader: AsyncConnection, item_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.item_row(reader, item_id)
    if row is None:
        raise NotFound("no such item")
    return row


async def list_items(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    skus: Sequence[str] | None = None,
    active: bool | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest change first; deactivated items stay listed (a mirror's tombstones)."""
    return await repo.item_rows(reader, page, skus=skus, active=active)


@dataclass(frozen=True, slots=True)
class WarehouseFields:
    code: str | None = None
    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    is_active: bool | None = None


def _checked_warehouse_fields(given: WarehouseFields) -> dict[str, Any]:
    values = {k: v for k, v in asdict(given).items() if v is not None}
    for name in ("code", "name", "street", "postal_code", "city"):
        if name in values:
            values[name] = values[name].strip()
    if values.get("code") == "":
        raise invalid("/code", "must not be empty")
    if "country" in values:
        values["country"] = rules.check_country(values["country"], "/country")
    return values


async def create_warehouse(
    session: AsyncSession,
    actor: Actor,
    given: WarehouseFields,
    warehouse_id: uuid.UUID | None = None,
) -> Warehouse:
    """Warehouse codes are unique."""
    warehouse = Warehouse(id=warehouse_id or uuid.uuid4(), **_checked_warehouse_fields(given))
    try:
        await repo.add(session, warehouse)
    except IntegrityError as exc:
        raise Conflict("a warehouse with this id or code exists") from exc
    await record_change(
        session,
        actor,
        action="inventory.warehouse.create",
        resource_type="inventory_warehouse",
        resource_id=warehouse.id,
        before=None,
        after=warehouse_snapshot(warehouse),
    )
    return warehouse


async def update_warehouse(
    session: AsyncSession,
    actor: Actor,
    warehouse_id: uuid.UUID,
    expected: ExpectedVersion,
    given: WarehouseFields,
) -> Warehouse:
    warehouse = await repo.load_warehouse(session, warehouse_id)
    if warehouse is None:
        raise NotFound("no such warehouse")
    values = _checked_warehouse_fields(given)

    def apply(target: Warehouse) -> None:
        for name, value in values.items():
            setattr(target, name, value)

    try:
        await apply_audited_change(
            session,
            actor,
            warehouse,
            expected=expected,
            snapshot=warehouse_snapshot,
            apply=apply,
            change=_WAREHOUSE_UPDATE,
        )
    except IntegrityError as exc:
        raise Conflict("another warehouse has this code") from exc
    return warehouse


async def get_warehouse(reader: AsyncConnection, warehouse_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.warehouse_row(reader, warehouse_id)
    if row is None:
        raise NotFound("no such warehouse")
    return row


async def list_warehouses(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await repo.warehouse_rows(reader, page)


async def require_active_warehouse(
    session: AsyncSession, warehouse_id: uuid.UUID, pointer: str
) -> None:
    """For other areas: a ReferenceConflict naming `pointer` unless the warehouse exists and
    is active."""
    warehouse = await repo.warehouse_row(session, warehouse_id)
    if warehouse is None:
        raise missing(pointer, "no such warehouse")
    if not warehouse["is_active"]:
        raise missing(pointer, "the warehouse is deactivated")

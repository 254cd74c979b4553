"""Placing, shipping and cancelling orders.

An order reserves all its lines or none; the same external order id from the same client
never makes a second order; a client reads and changes only its own orders. Stock moves
through the inventory area's service, customers come from the partners area's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.repositories import orders as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    ReferenceConflict,
    invalid,
    missing,
)
from app.domain.events.service import Event, publish
from app.domain.events.types import EventType
from app.domain.identity.clients import get_client
from app.domain.identity.principal import Principal
from app.domain.inventory import reservations
from app.domain.inventory.catalog import require_active_warehouse
from app.domain.orders import rules
from app.domain.orders.rules import OrderStatus, PricedLine
from app.domain.partners.service import CustomerRef, resolve_customer

_NOT_FOUND = "no such order"


@dataclass(frozen=True, slots=True)
class NewLine:
    sku: str
    quantity: Decimal
    unit_price: Decimal
    vat_category: str


@dataclass(frozen=True, slots=True)
class ShipTo:
    name: str
    street: str
    postal_code: str
    city: str
    country: str


@dataclass(frozen=True, slots=True)
class NewOrder:
    lines: list[NewLine]
    customer_id: uuid.UUID | None = None
    customer_external_id: str | None = None
    external_id: str | None = None
    warehouse_id: uuid.UUID | None = None
    ship_to: ShipTo | None = None
    currency: str = "EUR"
    reserve_until: datetime | None = None
    id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    order: dict[str, Any]
    created: bool  # False: the client had placed this external order id before


def _owner_filter(caller: Principal) -> uuid.UUID | None:
    return caller.id if caller.is_client else None


async def _customer(session: AsyncSession, caller: Principal, new: NewOrder) -> CustomerRef:
    if new.customer_id is None and new.customer_external_id is None:
        raise invalid("/customer_id", "give customer_id or customer_external_id")
    if new.customer_id is not None and new.customer_external_id is not None:
        raise invalid("/customer_id", "give customer_id or customer_external_id, not both")
    pointer = "/customer_id" if new.customer_id else "/customer_external_id"
    try:
        customer = await resolve_customer(
            session,
            caller,
            partner_id=new.customer_id,
            external_id=new.customer_external_id,
        )
    except NotFound as exc:
        raise missing(pointer, "no such customer") from exc
    if not customer.is_active:
        raise missing(pointer, "the customer is deactivated")
    return customer


def _ship_to(new: NewOrder, customer: CustomerRef) -> ShipTo:
    if new.ship_to is not None:
        return new.ship_to
    address = customer.shipping_address or customer.billing_address
    if address is None:
        raise invalid("/shipping_address", "required: the customer has no address on file")
    return ShipTo(
        customer.name, address.street, address.postal_code or "", address.city, address.country
    )


async def _warehouse(session: AsyncSession, caller: Principal, new: NewOrder) -> uuid.UUID:
    warehouse_id = new.warehouse_id
    if warehouse_id is None and caller.is_client:
        warehouse_id = await repo.default_warehouse(session, caller.id)
    if warehouse_id is None:
        raise invalid("/warehouse_id", "required: no default warehouse is set for the caller")
    await require_active_warehouse(session, warehouse_id, "/warehouse_id")
    return warehouse_id


def _check_vat_categories(new: NewOrder, items: Mapping[str, reservations.StockItem]) -> None:
    errors = [
        FieldError("does not match the item's VAT category", pointer=f"/lines/{i}/vat_category")
        for i, line in enumerate(new.lines)
        if line.vat_category != items[line.sku].vat_category
    ]
    if errors:
        raise InvalidInput("some lines carry another VAT category than their item", errors)


def _order_event(order: Mapping[str, Any]) -> Event:
    return Event(
        EventType.order_status_changed,
        order["id"],
        {
            "status": order["status"],
            "external_id": order["external_id"],
            "customer_id": str(order["customer_id"]),
            "gross_total": str(order["gross_total"]),
            "currency": order["currency"],
            "version": order["version"],
        },
        owner_ids=[order["placed_by"]] if order["placed_by_client"] else None,
    )


async def place_order(
    session: AsyncSession, caller: Principal, actor: Actor, new: NewOrder
) -> Placed:
    """Reserves every line in the order's warehouse or nothing (InsufficientStock lists the
    short SKUs); totals (net, VAT per rate, gross) are computed here, never taken from the
    caller. A client's repeated external order id answers the order it placed before."""
    rules.check_lines([line.quantity for line in new.lines])
    if new.external_id is not None and caller.is_client:
        existing = await repo.order_by_external_id(session, caller.id, new.external_id)
        if existing is not None:
            return Placed(existing, created=False)
    customer = await _customer(session, caller, new)
    ship_to = _ship_to(new, customer)
    warehouse_id = await _warehouse(session, caller, new)
    items = await reservations.items_for_lines(session, [line.sku for line in new.lines])
    _check_vat_categories(new, items)
    priced = [PricedLine(ln.quantity, ln.unit_price, ln.vat_category) for ln in new.lines]
    rules.check_amounts(priced)
    totals = rules.totals(priced)
    order_id = new.id or uuid.uuid4()
    values: dict[str, Any] = {
        "id": order_id,
        "placed_by": caller.id,
        "placed_by_client": caller.is_client,
        "external_id": new.external_id,
        "customer_id": customer.id,
        "warehouse_id": warehouse_id,
        "status": OrderStatus.reserved.value,
        "currency": new.currency,
        "ship_to_name": ship_to.name,
        "ship_to_street": ship_to.street,
        "ship_to_postal_code": ship_to.postal_code,
        "ship_to_city": ship_to.city,
        "ship_to_country": ship_to.country,
        "net_total": totals.net,
        "vat_total": totals.vat,
        "gross_total": totals.gross,
        "vat_breakdown": [
            {"category": s.category, "rate": str(s.rate), "net": str(s.net), "vat": str(s.vat)}
            for s in totals.breakdown
        ],
        "reserve_until": new.reserve_until,
    }
    lines: list[dict[str, Any]] = [
        {
            "order_id": order_id,
            "line_no": number,
            "item_id": items[line.sku].id,
            "sku": line.sku,
            "name": items[line.sku].name,
            "quantity": line.quantity,
            "shipped": Decimal(0),
            "unit_price": line.unit_price,
            "vat_category": line.vat_category,
            "vat_rate": rules.VAT_RATES[line.vat_category],
            "net_amount": priced[number - 1].net_amount,
        }
        for number, line in enumerate(new.lines, start=1)
    ]
    stored = await repo.insert_order(session, values, lines)
    if stored is None:  # the same external id, placed concurrently, committed first
        existing = await repo.order_by_external_id(session, caller.id, new.external_id or "")
        assert existing is not None
        return Placed(existing, created=False)
    order = values | stored | {"lines": [_line_view(line) for line in lines]}
    await record_change(
        session,
        actor,
        action="orders.order.create",
        resource_type="orders_order",
        resource_id=order_id,
        before=None,
        after=_audit_view(order),
    )
    await publish(session, [_order_event(order)])
    # Last, so the hot stock rows stay locked for as short a time as the transaction allows.
    wanted: dict[uuid.UUID, Decimal] = {}
    for line in lines:
        wanted[line["item_id"]] = wanted.get(line["item_id"], Decimal(0)) + line["quantity"]
    await reservations.reserve_for_order(
        session,
        actor,
        order_id=order_id,
        warehouse_id=warehouse_id,
        quantities=wanted,
        skus={item.id: item.sku for item in items.values()},
    )
    return Placed(order, created=True)


def _line_view(line: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "order_id"}


def _audit_view(order: Mapping[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return str(value) if isinstance(value, Decimal | uuid.UUID | datetime) else value

    return {k: plain(v) for k, v in order.items() if k not in ("created_at", "updated_at")}


async def get_order(db: AsyncConnection, caller: Principal, order_id: uuid.UUID) -> dict[str, Any]:
    """404 for another client's order, so ids of others' orders do not leak."""
    row = await repo.order_row(db, order_id, _owner_filter(caller))
    if row is None:
        raise NotFound(_NOT_FOUND)
    return row


async def list_orders(
    reader: AsyncConnection,
    caller: Principal,
    page: PageRequest,
    *,
    status: OrderStatus | None = None,
    customer_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest change first; a client sees only its own orders."""
    return await repo.order_rows(
        reader,
        page,
        placed_by=_owner_filter(caller),
        status=status.value if status else None,
        customer_id=customer_id,
    )


@dataclass(frozen=True, slots=True)
class _Locked:
    header: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def skus(self) -> dict[uuid.UUID, str]:
        return {line["item_id"]: line["sku"] for line in self.lines}


async def _lock(
    session: AsyncSession, caller: Principal, order_id: uuid.UUID, expected: ExpectedVersion
) -> _Locked:
    header = await repo.lock_order(session, order_id)
    if header is None or (caller.is_client and header["placed_by"] != caller.id):
        raise NotFound(_NOT_FOUND)
    expected.check(header["version"])
    return _Locked(header, await repo.lines_of(session, order_id))


async def _after_change(
    session: AsyncSession, actor: Actor, order: _Locked, status: OrderStatus, action: str
) -> dict[str, Any]:
    changed = await repo.set_status(session, order.header["id"], status.value)
    header = order.header | changed | {"status": status.value}
    await record_change(
        session,
        actor,
        action=action,
        resource_type="orders_order",
        resource_id=header["id"],
        before={"status": order.header["status"]},
        after={"status": status.value},
    )
    await publish(session, [_order_event(header)])
    row = await repo.order_row(session, header["id"], None)
    assert row is not None
    return row


async def ship_order(
    session: AsyncSession,
    caller: Principal,
    actor: Actor,
    order_id: uuid.UUID,
    expected: ExpectedVersion,
    quantities: Mapping[int, Decimal] | None = None,
) -> dict[str, Any]:
    """Ships the given quantities per line number (None: everything still open). Shipping
    issues the stock and gives up its reservation; the order is fulfilled once every line is
    shipped in full."""
    order = await _lock(session, caller, order_id, expected)
    rules.check_open(OrderStatus(order.header["status"]), "shipped")
    open_by_line = {ln["line_no"]: ln["quantity"] - ln["shipped"] for ln in order.lines}
    wanted = dict(quantities) if quantities is not None else open_by_line
    errors = []
    for index, (line_no, quantity) in enumerate(wanted.items()):
        if line_no not in open_by_line:
            errors.append(FieldError("no such line", pointer=f"/lines/{index}/line_no"))
        elif quantity > open_by_line[line_no]:
            errors.append(
                FieldError(
                    f"only {open_by_line[line_no]} left to ship", pointer=f"/lines/{index}/quantity"
                )
            )
    if errors:
        raise ReferenceConflict("the shipment does not fit what the order has open", errors)
    by_item: dict[uuid.UUID, Decimal] = {}
    item_of = {ln["line_no"]: ln["item_id"] for ln in order.lines}
    for line_no, quantity in wanted.items():
        by_item[item_of[line_no]] = by_item.get(item_of[line_no], Decimal(0)) + quantity
    await reservations.ship_for_order(
        session,
        actor,
        order_id=order_id,
        warehouse_id=order.header["warehouse_id"],
        quantities=by_item,
        skus=order.skus,
    )
    await repo.add_shipped(session, order_id, wanted)
    remaining = sum(open_by_line.values(), Decimal(0)) - sum(wanted.values(), Decimal(0))
    status = rules.status_after_shipment(remaining)
    return await _after_change(session, actor, order, status, "orders.order.ship")


async def cancel_order(
    session: AsyncSession,
    caller: Principal,
    actor: Actor,
    order_id: uuid.UUID,
    expected: ExpectedVersion,
) -> dict[str, Any]:
    """Cancels an open order and releases what it still holds reserved; what was shipped
    stays shipped."""
    order = await _lock(session, caller, order_id, expected)
    rules.check_open(OrderStatus(order.header["status"]), "cancelled")
    return await _close(session, actor, order, OrderStatus.cancelled, "orders.order.cancel")


async def _close(
    session: AsyncSession, actor: Actor, order: _Locked, status: OrderStatus, action: str
) -> dict[str, Any]:
    """Releases what the open order still holds reserved and gives it its final status."""
    by_item: dict[uuid.UUID, Decimal] = {}
    for line in order.lines:
        left = line["quantity"] - line["shipped"]
        by_item[line["item_id"]] = by_item.get(line["item_id"], Decimal(0)) + left
    await reservations.release_for_order(
        session,
        actor,
        order_id=order.header["id"],
        warehouse_id=order.header["warehouse_id"],
        quantities=by_item,
        skus=order.skus,
    )
    return await _after_change(session, actor, order, status, action)


async def expire_overdue_orders(
    session: AsyncSession, actor: Actor, *, now: datetime, limit: int
) -> int:
    """Expires up to `limit` open orders whose `reserve_until` has passed: what they still
    hold reserved is released (a release movement, stock and order events) and their status
    becomes `expired`. Orders another transaction holds are left to it, so however many
    workers run this, an order expires once. Returns how many expired."""
    overdue = await repo.lock_overdue_orders(session, now, limit)
    for header in overdue:
        order = _Locked(header, await repo.lines_of(session, header["id"]))
        await _close(session, actor, order, OrderStatus.expired, "orders.order.expire")
    return len(overdue)


async def set_default_warehouse(
    session: AsyncSession, actor: Actor, client_id: uuid.UUID, warehouse_id: uuid.UUID
) -> None:
    """The warehouse a client's orders ship from when they name none."""
    await get_client(await session.connection(), client_id)
    await require_active_warehouse(session, warehouse_id, "/default_warehouse_id")
    await repo.set_default_warehouse(session, client_id, warehouse_id)
    await record_change(
        session,
        actor,
        action="orders.channel.set",
        resource_type="orders_channel",
        resource_id=client_id,
        before=None,
        after={"default_warehouse_id": str(warehouse_id)},
    )

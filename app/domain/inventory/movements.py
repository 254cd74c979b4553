"""Booking stock: every change is an immutable movement whose ledger lines move the balances in
the same transaction. Corrections are new movements, never edits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.inventory import Item
from app.db.repositories import inventory as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.errors import Conflict, InsufficientStock, NotFound, Shortage, invalid, missing
from app.domain.events.service import Event, publish
from app.domain.events.types import EventType
from app.domain.inventory.catalog import require_active_warehouse
from app.domain.inventory.rules import Leg, MovementKind, check_quantity, legs_of


@dataclass(frozen=True, slots=True)
class MovementRequest:
    """`quantity` is positive for receipts, issues and transfers, signed (not zero) for
    adjustments, and absent for counts, which give `counted` instead."""

    kind: MovementKind
    item_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: Decimal | None = None
    to_warehouse_id: uuid.UUID | None = None
    counted: Decimal | None = None
    reason: str | None = None
    reference: str | None = None
    id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    item_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


async def _item(session: AsyncSession, item_id: uuid.UUID) -> Item:
    item = await repo.load_item(session, item_id)
    if item is None:
        raise missing("/item_id", "no such item")
    return item


def _checked_quantity(request: MovementRequest) -> Decimal:
    if request.quantity is None:
        raise invalid("/quantity", "is required for this kind of movement")
    if request.kind is MovementKind.adjustment:
        magnitude = check_quantity(abs(request.quantity), "/quantity")
        if not (request.reason or "").strip():
            raise invalid("/reason", "an adjustment needs a reason")
        return magnitude.copy_sign(request.quantity)
    return check_quantity(request.quantity, "/quantity")


async def _apply(session: AsyncSession, item: Item, legs: list[Leg]) -> list[Balance]:
    """Moves the balances in the legs' (fixed) order; a decrease that would undercut what is
    reserved or on hand books nothing."""
    balances = []
    for leg in legs:
        result = await repo.change_on_hand(session, item.id, leg.warehouse_id, leg.on_hand_delta)
        if result is None:
            on_hand, reserved = await repo.balance(session, item.id, leg.warehouse_id)
            raise InsufficientStock(
                f"not enough stock of {item.sku!r} in that warehouse",
                [
                    Shortage(
                        item.sku,
                        str(leg.warehouse_id),
                        str(-leg.on_hand_delta),
                        str(on_hand - reserved),
                    )
                ],
            )
        balances.append(Balance(item.id, item.sku, leg.warehouse_id, *result))
    return balances


async def _count_legs(
    session: AsyncSession, request: MovementRequest
) -> tuple[list[Leg], Decimal, Decimal]:
    """A stock count books the difference between what was counted and what was expected."""
    if request.counted is None:
        raise invalid("/counted", "a count needs the counted quantity")
    counted = check_quantity(request.counted, "/counted", allow_zero=True)
    expected, reserved = await repo.lock_balance(session, request.item_id, request.warehouse_id)
    if counted < reserved:
        raise Conflict(
            f"{reserved} are reserved for orders but only {counted} were counted: release or "
            "reallocate those reservations first"
        )
    difference = counted - expected
    legs = [Leg(request.warehouse_id, difference)] if difference else []
    return legs, counted, expected


async def book_movement(
    session: AsyncSession, actor: Actor, request: MovementRequest
) -> tuple[dict[str, Any], list[Balance]]:
    """Books a receipt, issue, transfer (both legs or neither), adjustment or count. Stock never
    goes negative and never below what is reserved (checked by the statement and by the
    database's constraints). Audited, and published as stock events. Returns the movement as
    stored, with its SKU and lines, and the new balances."""
    item = await _item(session, request.item_id)
    await require_active_warehouse(session, request.warehouse_id, "/warehouse_id")
    counted = expected = None
    if request.kind is MovementKind.stock_count:
        legs, counted, expected = await _count_legs(session, request)
        quantity = counted - expected
    else:
        quantity = _checked_quantity(request)
        if request.kind is MovementKind.transfer and request.to_warehouse_id is not None:
            await require_active_warehouse(session, request.to_warehouse_id, "/to_warehouse_id")
        legs = legs_of(request.kind, quantity, request.warehouse_id, request.to_warehouse_id)
    balances = await _apply(session, item, legs)
    movement = {
        "id": request.id or uuid.uuid4(),
        "kind": request.kind.value,
        "item_id": item.id,
        "quantity": quantity,
        "reason": (request.reason or "").strip() or None,
        "reference": (request.reference or "").strip() or None,
        "counted": counted,
        "expected": expected,
        "created_by": actor.subject,
    }
    lines = [
        {"item_id": item.id, "warehouse_id": leg.warehouse_id, "on_hand_delta": leg.on_hand_delta}
        for leg in legs
    ]
    try:
        stored = await repo.add_movement(session, movement, lines)
    except IntegrityError as exc:
        raise Conflict("a movement with this id exists") from exc
    await record_change(
        session,
        actor,
        action=f"inventory.movement.{request.kind.value}",
        resource_type="inventory_movement",
        resource_id=stored["id"],
        before=None,
        after=_audit_view(stored, lines),
    )
    await publish(session, [stock_event(b) for b in balances])
    view = stored | {"sku": item.sku, "lines": [line | {"reserved_delta": 0} for line in lines]}
    return view, balances


def stock_event(balance: Balance) -> Event:
    return Event(
        EventType.stock_changed,
        balance.item_id,
        {
            "item_id": str(balance.item_id),
            "sku": balance.sku,
            "warehouse_id": str(balance.warehouse_id),
            "on_hand": str(balance.on_hand),
            "reserved": str(balance.reserved),
            "available": str(balance.available),
        },
    )


def _audit_view(movement: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, Decimal | uuid.UUID) else value

    view = {k: plain(v) for k, v in movement.items() if k != "created_at"}
    view["lines"] = [{k: plain(v) for k, v in line.items()} for line in lines]
    return view


async def get_movement(reader: AsyncConnection, movement_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.movement_row(reader, movement_id)
    if row is None:
        raise NotFound("no such movement")
    return row


async def list_movements(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    item_id: uuid.UUID | None = None,
    warehouse_id: uuid.UUID | None = None,
    kind: MovementKind | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The ledger, oldest first; `updated_since` means booked since."""
    return await repo.movement_rows(
        reader, page, item_id=item_id, warehouse_id=warehouse_id, kind=kind.value if kind else None
    )

"""What orders do to stock, for the orders area: reserve lines all or nothing, ship them, and
release what is no longer needed. Each is one movement with its ledger lines, audited and
published like every other."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import inventory as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.errors import FieldError, InsufficientStock, InvalidInput, Shortage
from app.domain.events.service import publish
from app.domain.inventory.movements import Balance, stock_event
from app.domain.inventory.rules import MovementKind

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class StockItem:
    """What an order line needs to know of the item it names."""

    id: uuid.UUID
    sku: str
    name: str
    vat_category: str
    unit_code: str


async def items_for_lines(session: AsyncSession, skus: Sequence[str]) -> dict[str, StockItem]:
    """The active items the SKUs name; InvalidInput naming each line whose SKU is unknown or
    deactivated (`skus[i]` is line i)."""
    found = await repo.items_by_sku(session, sorted(set(skus)))
    errors = []
    for index, sku in enumerate(skus):
        row = found.get(sku)
        if row is None or not row["is_active"]:
            why = "no such SKU" if row is None else "the item is deactivated"
            errors.append(FieldError(why, pointer=f"/lines/{index}/sku"))
    if errors:
        raise InvalidInput("some lines name no orderable item", errors)
    return {
        sku: StockItem(row["id"], sku, row["name"], row["vat_category"], row["unit_code"])
        for sku, row in found.items()
    }


def _per_item(quantities: Mapping[uuid.UUID, Decimal]) -> list[uuid.UUID]:
    return sorted(quantities)


async def _book(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: MovementKind,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    deltas: list[tuple[uuid.UUID, Decimal, Decimal]],
    skus: Mapping[uuid.UUID, str],
) -> list[Balance]:
    balances = await repo.apply_deltas(session, warehouse_id, deltas)
    movement = {
        "id": uuid.uuid4(),
        "kind": kind.value,
        "order_id": order_id,
        "created_by": actor.subject,
    }
    lines = [
        {
            "item_id": item_id,
            "warehouse_id": warehouse_id,
            "on_hand_delta": on_hand_delta,
            "reserved_delta": reserved_delta,
        }
        for item_id, on_hand_delta, reserved_delta in deltas
    ]
    stored = await repo.add_movement(session, movement, lines)
    await record_change(
        session,
        actor,
        action=f"inventory.movement.{kind.value}",
        resource_type="inventory_movement",
        resource_id=stored["id"],
        before=None,
        after={"order_id": str(order_id), "lines": [_plain(line) for line in lines]},
    )
    result = [
        Balance(item_id, skus[item_id], warehouse_id, *balances[item_id])
        for item_id, _, _ in deltas
    ]
    await publish(session, [stock_event(b) for b in result])
    return result


def _plain(line: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in line.items()}


async def reserve_for_order(
    session: AsyncSession,
    actor: Actor,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantities: Mapping[uuid.UUID, Decimal],
    skus: Mapping[uuid.UUID, str],
) -> list[Balance]:
    """Reserves every item's quantity or nothing: InsufficientStock lists each short SKU with
    what was asked and what is available. Balances are locked in item order first, so
    concurrent orders never deadlock and never oversell."""
    item_ids = _per_item(quantities)
    locked = await repo.lock_balances(session, warehouse_id, item_ids)
    shortages = []
    for item_id in item_ids:
        on_hand, reserved = locked.get(item_id, (ZERO, ZERO))
        if on_hand - reserved < quantities[item_id]:
            shortages.append(
                Shortage(
                    skus[item_id],
                    str(warehouse_id),
                    str(quantities[item_id]),
                    str(on_hand - reserved),
                )
            )
    if shortages:
        raise InsufficientStock("not enough stock for every line; nothing was reserved", shortages)
    deltas = [(item_id, ZERO, quantities[item_id]) for item_id in item_ids]
    return await _book(
        session,
        actor,
        kind=MovementKind.reservation,
        order_id=order_id,
        warehouse_id=warehouse_id,
        deltas=deltas,
        skus=skus,
    )


async def _settle(
    session: AsyncSession,
    actor: Actor,
    kind: MovementKind,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantities: Mapping[uuid.UUID, Decimal],
    skus: Mapping[uuid.UUID, str],
) -> list[Balance]:
    """Takes reserved quantities off the reservation, and off what is on hand too when the
    goods leave (a shipment)."""
    item_ids = [i for i in _per_item(quantities) if quantities[i] > 0]
    if not item_ids:
        return []
    await repo.lock_balances(session, warehouse_id, item_ids)
    leaves = kind is MovementKind.shipment
    deltas = [(i, -quantities[i] if leaves else ZERO, -quantities[i]) for i in item_ids]
    return await _book(
        session,
        actor,
        kind=kind,
        order_id=order_id,
        warehouse_id=warehouse_id,
        deltas=deltas,
        skus=skus,
    )


async def ship_for_order(
    session: AsyncSession,
    actor: Actor,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantities: Mapping[uuid.UUID, Decimal],
    skus: Mapping[uuid.UUID, str],
) -> list[Balance]:
    """Issues reserved stock: on hand and reserved both go down by what was shipped."""
    return await _settle(
        session,
        actor,
        MovementKind.shipment,
        order_id=order_id,
        warehouse_id=warehouse_id,
        quantities=quantities,
        skus=skus,
    )


async def release_for_order(
    session: AsyncSession,
    actor: Actor,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantities: Mapping[uuid.UUID, Decimal],
    skus: Mapping[uuid.UUID, str],
) -> list[Balance]:
    """Gives up reservations an order no longer needs (it was cancelled or expired)."""
    return await _settle(
        session,
        actor,
        MovementKind.release,
        order_id=order_id,
        warehouse_id=warehouse_id,
        quantities=quantities,
        skus=skus,
    )

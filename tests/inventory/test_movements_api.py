"""Booking stock over HTTP: every movement moves the balance, the ledger sums to it, nothing
half-done is left behind, and booked movements can never be changed."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent, Item, Warehouse
from tests.factories.identity import auth_headers
from tests.factories.inventory import (
    MOVEMENTS,
    balance_of,
    ledger_disagreements,
    make_item,
    make_warehouse,
    receive,
)


@pytest.fixture
async def clerk(app: FastAPI) -> dict[str, str]:
    return await auth_headers(app, "warehouse_clerk")


@pytest.fixture
async def item(session: AsyncSession) -> Item:
    return await make_item(session)


@pytest.fixture
async def north(session: AsyncSession) -> Warehouse:
    return await make_warehouse(session)


@pytest.fixture
async def south(session: AsyncSession) -> Warehouse:
    return await make_warehouse(session)


def movement(kind: str, item: Item, warehouse: Warehouse, **fields: object) -> dict[str, object]:
    return {"kind": kind, "item_id": str(item.id), "warehouse_id": str(warehouse.id), **fields}


async def test_a_receipt_and_an_issue_move_the_balance_and_are_audited(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
) -> None:
    received = await client.post(
        MOVEMENTS,
        json=movement("receipt", item, north, quantity="12.5", reference="LS-4711"),
        headers=clerk,
    )
    assert received.status_code == 201, received.text
    body = received.json()
    assert body["quantity"] == "12.500"
    assert body["sku"] == item.sku
    assert body["lines"] == [
        {
            "item_id": str(item.id),
            "warehouse_id": str(north.id),
            "on_hand_delta": "12.500",
            "reserved_delta": "0.000",
        }
    ]
    assert body["order_id"] is None
    assert received.headers["location"] == f"{MOVEMENTS}/{body['id']}"
    issued = await client.post(
        MOVEMENTS, json=movement("issue", item, north, quantity="2.5"), headers=clerk
    )
    assert issued.status_code == 201, issued.text
    assert await balance_of(session, item.id, north.id) == Decimal(10)
    assert await ledger_disagreements(session) == []
    read = await client.get(f"{MOVEMENTS}/{body['id']}", headers=clerk)
    assert read.json() == body
    actions = set(
        (
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.resource_id.in_([body["id"], issued.json()["id"]])
                )
            )
        ).all()
    )
    assert actions == {"inventory.movement.receipt", "inventory.movement.issue"}


async def test_an_issue_beyond_the_stock_is_a_409_that_books_nothing(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
) -> None:
    await receive(session, item, north, 3)
    refused = await client.post(
        MOVEMENTS, json=movement("issue", item, north, quantity="4"), headers=clerk
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["shortages"] == [
        {"sku": item.sku, "warehouse_id": str(north.id), "requested": "4", "available": "3.000"}
    ]
    assert await balance_of(session, item.id, north.id) == Decimal(3)
    never_stocked = await make_warehouse(session)
    empty = await client.post(
        MOVEMENTS, json=movement("issue", item, never_stocked, quantity="1"), headers=clerk
    )
    assert empty.status_code == 409


async def test_a_transfer_moves_both_legs_or_neither(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
    south: Warehouse,
) -> None:
    await receive(session, item, north, 5)
    moved = await client.post(
        MOVEMENTS,
        json=movement("transfer", item, north, quantity="3", to_warehouse_id=str(south.id)),
        headers=clerk,
    )
    assert moved.status_code == 201, moved.text
    assert len(moved.json()["lines"]) == 2
    assert await balance_of(session, item.id, north.id) == Decimal(2)
    assert await balance_of(session, item.id, south.id) == Decimal(3)

    too_much = await client.post(
        MOVEMENTS,
        json=movement("transfer", item, north, quantity="3", to_warehouse_id=str(south.id)),
        headers=clerk,
    )
    assert too_much.status_code == 409
    assert await balance_of(session, item.id, north.id) == Decimal(2)
    assert await balance_of(session, item.id, south.id) == Decimal(3)
    to_itself = await client.post(
        MOVEMENTS,
        json=movement("transfer", item, north, quantity="1", to_warehouse_id=str(north.id)),
        headers=clerk,
    )
    assert to_itself.status_code == 422
    assert to_itself.json()["errors"][0]["pointer"] == "/to_warehouse_id"
    assert await ledger_disagreements(session) == []


async def test_a_transfer_that_fails_half_way_leaves_both_warehouses_unchanged(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
    south: Warehouse,
) -> None:
    """Legs are applied in warehouse-id order. With the target first, its increase is applied
    before the source's decrease is found short: the request's transaction books neither."""
    target, source = sorted([north, south], key=lambda w: w.id)
    await receive(session, item, source, 1)
    await receive(session, item, target, 4)
    response = await client.post(
        MOVEMENTS,
        json=movement("transfer", item, source, quantity="3", to_warehouse_id=str(target.id)),
        headers=clerk,
    )
    assert response.status_code == 409, response.text
    assert await balance_of(session, item.id, source.id) == Decimal(1)
    assert await balance_of(session, item.id, target.id) == Decimal(4)
    assert await ledger_disagreements(session) == []


async def test_an_adjustment_needs_a_reason_and_may_go_either_way(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
) -> None:
    await receive(session, item, north, 5)
    no_reason = await client.post(
        MOVEMENTS, json=movement("adjustment", item, north, quantity="-1"), headers=clerk
    )
    assert no_reason.status_code == 422
    blank = await client.post(
        MOVEMENTS,
        json=movement("adjustment", item, north, quantity="-1", reason="  "),
        headers=clerk,
    )
    assert blank.status_code == 422
    broken = await client.post(
        MOVEMENTS,
        json=movement("adjustment", item, north, quantity="-2", reason="Bruch beim Umlagern"),
        headers=clerk,
    )
    assert broken.status_code == 201, broken.text
    assert broken.json()["quantity"] == "-2.000"
    assert await balance_of(session, item.id, north.id) == Decimal(3)


async def test_a_count_books_the_difference_to_what_was_expected(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
) -> None:
    await receive(session, item, north, 10)
    counted = await client.post(
        MOVEMENTS, json=movement("count", item, north, counted="7.5"), headers=clerk
    )
    assert counted.status_code == 201, counted.text
    body = counted.json()
    assert (body["expected"], body["counted"], body["quantity"]) == ("10.000", "7.500", "-2.500")
    assert await balance_of(session, item.id, north.id) == Decimal("7.5")
    confirmed = await client.post(
        MOVEMENTS, json=movement("count", item, north, counted="7.5"), headers=clerk
    )
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["lines"] == []
    assert await ledger_disagreements(session) == []


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"quantity": "0"}, "/quantity"),
        ({"quantity": "-1"}, "/quantity"),
        ({"quantity": "1.0001"}, "/quantity"),
        ({"quantity": 1}, "/quantity"),
        ({"kind": "theft"}, ""),
        ({"unknown": 1}, "/receipt/unknown"),
    ],
)
async def test_bad_movements_are_a_422_that_names_the_field(
    client: httpx.AsyncClient,
    clerk: dict[str, str],
    session: AsyncSession,
    item: Item,
    north: Warehouse,
    change: dict[str, object],
    pointer: str,
) -> None:
    body = movement("receipt", item, north, quantity="1") | change
    response = await client.post(MOVEMENTS, json=body, headers=clerk)
    assert response.status_code == 422, response.text
    pointers = [e.get("pointer", "") for e in response.json()["errors"]]
    assert any(p.endswith(pointer) or p == pointer for p in pointers), pointers
    assert await balance_of(session, item.id, north.id) == Decimal(0)


async def test_an_unknown_item_or_warehouse_is_a_409_naming_it(
    client: httpx.AsyncClient, clerk: dict[str, str], item: Item, north: Warehouse
) -> None:
    unknown_item = movement("receipt", item, north, quantity="1") | {"item_id": str(uuid.uuid4())}
    response = await client.post(MOVEMENTS, json=unknown_item, headers=clerk)
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/item_id"
    unknown_warehouse = movement("receipt", item, north, quantity="1") | {
        "warehouse_id": str(uuid.uuid4())
    }
    response = await client.post(MOVEMENTS, json=unknown_warehouse, headers=clerk)
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/warehouse_id"


async def test_booked_movements_cannot_be_changed_or_deleted_even_with_sql(
    session: AsyncSession, item: Item, north: Warehouse
) -> None:
    await receive(session, item, north, 1)
    for statement in (
        "UPDATE inventory_movement SET quantity = 100",
        "DELETE FROM inventory_movement_line",
        "TRUNCATE inventory_movement_line",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin_nested():
                await session.execute(text(statement))


async def test_the_database_refuses_negative_stock_behind_the_apps_back(
    session: AsyncSession, item: Item, north: Warehouse
) -> None:
    await receive(session, item, north, 1)
    for statement in (
        "UPDATE inventory_stock SET on_hand = -1",
        "UPDATE inventory_stock SET reserved = 2",
    ):
        with pytest.raises(DBAPIError, match="check constraint"):
            async with session.begin_nested():
                await session.execute(text(statement))

"""Stock stays exact when many clerks book at once (real commits, separate connections)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from fastapi import FastAPI

from tests.factories.identity import auth_headers
from tests.factories.inventory import (
    MOVEMENTS,
    balance_of,
    ledger_disagreements,
    make_item,
    make_warehouse,
    receive,
)


async def test_issues_racing_transfers_both_ways_keep_stock_exact_without_deadlocks(
    committed_app: FastAPI,
) -> None:
    app = committed_app
    async with app.state.db.sessions() as session:
        item = await make_item(session)
        north, south = await make_warehouse(session), await make_warehouse(session)
        await receive(session, item, north, 10)
        await receive(session, item, south, 10)
        await session.commit()
    clerk = await auth_headers(app, "warehouse_clerk")

    def issue(warehouse_id: object) -> dict[str, object]:
        return {
            "kind": "issue",
            "item_id": str(item.id),
            "warehouse_id": str(warehouse_id),
            "quantity": "1",
        }

    def transfer(source: object, target: object) -> dict[str, object]:
        return issue(source) | {"kind": "transfer", "to_warehouse_id": str(target)}

    # Issues from north race transfers both ways: the transfers lock both balances, in the
    # same order whichever way they go, so none of them deadlocks.
    bodies = [issue(north.id)] * 40 + [transfer(north.id, south.id)] * 10
    bodies += [transfer(south.id, north.id)] * 10
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(client.post(MOVEMENTS, json=body, headers=clerk) for body in bodies)
        )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [r.text for r in responses if r.status_code >= 500]
    conflicts = [r for r in responses if r.status_code == 409]
    assert all("shortages" in r.json() for r in conflicts)

    async with app.state.db.sessions() as session:
        north_left = await balance_of(session, item.id, north.id)
        south_left = await balance_of(session, item.id, south.id)
        assert await ledger_disagreements(session) == []
    issued = sum(
        1 for body, s in zip(bodies, statuses, strict=True) if s == 201 and body["kind"] == "issue"
    )
    assert north_left >= 0
    assert south_left >= 0
    assert north_left + south_left == Decimal(20 - issued)


async def test_fifty_concurrent_single_unit_issues_of_ten_on_hand_take_exactly_ten(
    committed_app: FastAPI,
) -> None:
    app = committed_app
    async with app.state.db.sessions() as session:
        item = await make_item(session)
        north = await make_warehouse(session)
        await receive(session, item, north, 10)
        await session.commit()
    clerk = await auth_headers(app, "warehouse_clerk")
    body = {"kind": "issue", "item_id": str(item.id), "warehouse_id": str(north.id)}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(
                client.post(MOVEMENTS, json=body | {"quantity": "1"}, headers=clerk)
                for _ in range(50)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40
    async with app.state.db.sessions() as session:
        assert await balance_of(session, item.id, north.id) == Decimal(0)
        assert await ledger_disagreements(session) == []

"""Orders under concurrency, with real commits on separate connections: stock is exact, no
deadlock reaches a client, and a retried order is booked once."""

from __future__ import annotations

import asyncio
import random
import uuid
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import Order, Stock
from tests.factories.inventory import ledger_disagreements
from tests.factories.orders import ORDERS, open_shop


async def _stock(app: FastAPI, warehouse_id: uuid.UUID) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    async with app.state.db.sessions() as session:
        rows = await session.execute(
            select(Stock.item_id, Stock.on_hand, Stock.reserved).where(
                Stock.warehouse_id == warehouse_id
            )
        )
        assert await ledger_disagreements(session) == []
        return {r.item_id: (r.on_hand, r.reserved) for r in rows}


async def test_two_hundred_single_unit_orders_for_ten_in_stock_sell_exactly_ten(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    app, client = committed_app, committed_client
    shop = await open_shop(app, client, stock=10)
    responses = await asyncio.gather(
        *(client.post(ORDERS, json=shop.order_body("1"), headers=shop.keyed()) for _ in range(200))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 190, {s: statuses.count(s) for s in set(statuses)}
    on_hand, reserved = (await _stock(app, shop.warehouse.id))[shop.items[0].id]
    assert (on_hand, reserved) == (Decimal(10), Decimal(10))


async def test_baskets_with_lines_in_random_order_never_deadlock_or_oversell(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    app, client = committed_app, committed_client
    shop = await open_shop(app, client, stock=30)
    rng = random.Random()

    def basket() -> dict[str, object]:
        body = shop.order_body("1", "1", "1")
        rng.shuffle(body["lines"])  # type: ignore[arg-type]
        return body

    responses = await asyncio.gather(
        *(client.post(ORDERS, json=basket(), headers=shop.keyed()) for _ in range(60))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    assert statuses.count(201) == 30
    for item in shop.items:
        assert (await _stock(app, shop.warehouse.id))[item.id] == (Decimal(30), Decimal(30))


async def test_twenty_concurrent_retries_of_one_order_book_it_once(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    app, client = committed_app, committed_client
    shop = await open_shop(app, client, stock=10)
    body = shop.order_body("1", "1")
    same_key = shop.keyed()
    retries = [client.post(ORDERS, json=body, headers=same_key) for _ in range(10)]
    # Other keys for the same external order id: a client that lost its key, say.
    retries += [client.post(ORDERS, json=body, headers=shop.keyed()) for _ in range(10)]
    responses = await asyncio.gather(*retries)
    assert {r.status_code for r in responses} <= {200, 201, 409}
    ids = {r.json()["id"] for r in responses if r.status_code in (200, 201)}
    assert len(ids) == 1
    async with app.state.db.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(Order.external_id == body["external_id"])
        )
    assert count == 1
    stock = await _stock(app, shop.warehouse.id)
    assert stock[shop.items[0].id] == (Decimal(10), Decimal(1))

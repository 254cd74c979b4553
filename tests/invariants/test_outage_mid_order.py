"""The database connection dies in the middle of placing an order: the client gets a 503 with
Retry-After, and nothing of the order is left behind (real commits)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, func, select

from app.db.models import Order, Stock
from tests.factories.inventory import ledger_disagreements
from tests.factories.orders import ORDERS, open_shop


async def test_a_connection_lost_after_the_reservation_leaves_no_partial_order(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    app, client = committed_app, committed_client
    shop = await open_shop(app, client, stock=5)
    fired: list[str] = []

    def kill_the_backend(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # After the balances are locked and reserved, before the reservation is booked.
        if statement.startswith("INSERT INTO inventory_movement ") and not fired:
            fired.append(statement)
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", kill_the_backend)
    try:
        body = shop.order_body("2", "1")
        response = await client.post(ORDERS, json=body, headers=shop.keyed())
    finally:
        event.remove(engine, "before_cursor_execute", kill_the_backend)
    assert fired, "the fault was never injected"
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers

    async with app.state.db.sessions() as session:
        orders = await session.scalar(
            select(func.count()).where(Order.external_id == body["external_id"])
        )
        reserved = await session.scalars(
            select(Stock.reserved).where(Stock.warehouse_id == shop.warehouse.id)
        )
        assert orders == 0
        assert set(reserved.all()) == {Decimal(0)}
        assert await ledger_disagreements(session) == []
    retry = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert retry.status_code == 201, retry.text

"""The database connection dies in the middle of placing an order: the client gets a 503 with
Retry-After, and nothing of the order is left behind (real commits)."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.db.models import Order, Stock
from tests.factories.inventory import ledger_disagreements
from tests.factories.orders import ORDERS, open_shop

# After the balances are locked and reserved, as the reservation is booked, the server ends
# the connection, once (a sequence counts outside the transaction that dies).
_KILL_ONCE = (
    "CREATE SEQUENCE test_fault_shots",
    """
CREATE FUNCTION test_kill_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('test_fault_shots') = 1 THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
  END IF;
  RETURN NEW;
END $$""",
    "CREATE TRIGGER test_kill_once BEFORE INSERT ON inventory_movement "
    "FOR EACH ROW EXECUTE FUNCTION test_kill_once()",
)
_CLEAN_UP = (
    "DROP TRIGGER test_kill_once ON inventory_movement",
    "DROP FUNCTION test_kill_once()",
    "DROP SEQUENCE test_fault_shots",
)


async def test_a_connection_lost_after_the_reservation_leaves_no_partial_order(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    app, client = committed_app, committed_client
    shop = await open_shop(app, client, stock=5)
    async with app.state.db.engine.begin() as conn:
        for statement in _KILL_ONCE:
            await conn.execute(text(statement))
    try:
        body = shop.order_body("2", "1")
        response = await client.post(ORDERS, json=body, headers=shop.keyed())
    finally:
        async with app.state.db.engine.begin() as conn:
            fired = await conn.scalar(text("SELECT is_called FROM test_fault_shots"))
            for statement in _CLEAN_UP:
                await conn.execute(text(statement))
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

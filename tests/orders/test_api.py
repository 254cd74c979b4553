"""Orders over HTTP: reserve all or nothing, never twice, computed totals, own orders only."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Order, Stock
from tests.factories.identity import auth_headers
from tests.factories.inventory import ledger_disagreements
from tests.factories.orders import ORDERS, Shop, open_shop

PROBLEM = "application/problem+json"


@pytest.fixture
async def shop(app: FastAPI, client: httpx.AsyncClient) -> Shop:
    return await open_shop(app, client)


async def reserved(session: AsyncSession, shop: Shop) -> list[Decimal]:
    rows = await session.execute(
        select(Stock.item_id, Stock.reserved).where(Stock.warehouse_id == shop.warehouse.id)
    )
    by_item = dict(rows.all())
    return [by_item[item.id] for item in shop.items]


async def test_an_order_reserves_its_lines_and_computes_its_totals(
    client: httpx.AsyncClient, session: AsyncSession, shop: Shop
) -> None:
    body = shop.order_body("2", "1.5", "1")
    body["lines"][0]["unit_price"] = "19.99"
    response = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "reserved"
    assert order["warehouse_id"] == str(shop.warehouse.id)
    assert order["shipping_address"]["city"] == "München"
    assert [ln["net_amount"] for ln in order["lines"]] == ["39.98", "15.00", "10.00"]
    # 19 % of 49.98 = 9.4962 -> 9.50; 7 % of 15.00 = 1.05.
    assert order["vat_breakdown"] == [
        {"category": "standard", "rate": "19.00", "net": "49.98", "vat": "9.50"},
        {"category": "reduced", "rate": "7.00", "net": "15.00", "vat": "1.05"},
    ]
    assert (order["net_total"], order["vat_total"], order["gross_total"]) == (
        "64.98",
        "10.55",
        "75.53",
    )
    assert response.headers["location"] == f"{ORDERS}/{order['id']}"
    assert await reserved(session, shop) == [Decimal(2), Decimal("1.5"), Decimal(1)]
    read = await client.get(response.headers["location"], headers=shop.headers)
    assert read.json() == order


async def test_the_same_external_id_never_makes_a_second_order(
    client: httpx.AsyncClient, session: AsyncSession, shop: Shop
) -> None:
    body = shop.order_body("1")
    key = shop.keyed()
    first = await client.post(ORDERS, json=body, headers=key)
    assert first.status_code == 201
    replay = await client.post(ORDERS, json=body, headers=key)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    again = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    count = await session.scalar(
        select(func.count()).where(Order.external_id == body["external_id"])
    )
    assert count == 1
    assert await reserved(session, shop) == [Decimal(1), Decimal(0), Decimal(0)]


async def test_a_shortfall_lists_every_short_sku_and_reserves_nothing(
    client: httpx.AsyncClient, session: AsyncSession, shop: Shop
) -> None:
    body = shop.order_body("11", "3", "12")
    response = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    short = {s["sku"]: (s["requested"], s["available"]) for s in response.json()["shortages"]}
    assert short == {
        shop.items[0].sku: ("11", "10.000"),
        shop.items[2].sku: ("12", "10.000"),
    }
    assert await reserved(session, shop) == [Decimal(0)] * 3
    stored = await session.scalar(
        select(func.count()).where(Order.external_id == body["external_id"])
    )
    assert stored == 0


@pytest.mark.parametrize(
    ("line", "pointer"),
    [
        ({"sku": "NO-SUCH-SKU"}, "/lines/1/sku"),
        ({"quantity": "0"}, "/lines/1/quantity"),
        ({"quantity": "-1"}, "/lines/1/quantity"),
        ({"quantity": "1.0001"}, "/lines/1/quantity"),
        ({"unit_price": 10.5}, "/lines/1/unit_price"),
        ({"unit_price": "10.555"}, "/lines/1/unit_price"),
        ({"vat_category": "zero"}, "/lines/1/vat_category"),
    ],
)
async def test_a_bad_line_is_a_422_naming_it_that_reserves_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    shop: Shop,
    line: dict[str, object],
    pointer: str,
) -> None:
    body = shop.order_body("1", "1")
    body["lines"][1] |= line
    response = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert response.status_code == 422, response.text
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    assert await reserved(session, shop) == [Decimal(0)] * 3


async def test_clients_see_and_cancel_only_their_own_orders(
    app: FastAPI, client: httpx.AsyncClient, shop: Shop
) -> None:
    other = await open_shop(app, client, warehouse=shop.warehouse, items=shop.items)
    mine = (await client.post(ORDERS, json=shop.order_body("1"), headers=shop.keyed())).json()
    theirs = (await client.post(ORDERS, json=other.order_body("1"), headers=other.keyed())).json()

    assert (await client.get(f"{ORDERS}/{theirs['id']}", headers=shop.headers)).status_code == 404
    cancel = await client.post(f"{ORDERS}/{theirs['id']}/cancel", headers=shop.headers)
    assert cancel.status_code == 404
    listed = await client.get(ORDERS, params={"limit": 500}, headers=shop.headers)
    assert [o["id"] for o in listed.json()["items"]] == [mine["id"]]

    accountant = await auth_headers(app, "accountant")
    seen = await client.get(ORDERS, params={"limit": 500}, headers=accountant)
    assert {mine["id"], theirs["id"]} <= {o["id"] for o in seen.json()["items"]}
    assert (await client.post(ORDERS, json={}, headers=accountant)).status_code == 403

    feed = await client.get("/api/v1/events", params={"limit": 1000}, headers=shop.headers)
    orders_seen = {e["subject_id"] for e in feed.json()["items"] if e["type"].startswith("order")}
    assert orders_seen == {mine["id"]}


async def test_cancelling_releases_the_reservation_once(
    client: httpx.AsyncClient, session: AsyncSession, shop: Shop
) -> None:
    order = (await client.post(ORDERS, json=shop.order_body("3"), headers=shop.keyed())).json()
    stale = await client.post(
        f"{ORDERS}/{order['id']}/cancel", headers={**shop.headers, "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    cancelled = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=shop.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await reserved(session, shop) == [Decimal(0)] * 3
    again = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=shop.headers)
    assert again.status_code == 409
    assert await ledger_disagreements(session) == []


async def test_partial_shipments_issue_stock_until_the_order_is_fulfilled(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, shop: Shop
) -> None:
    order = (await client.post(ORDERS, json=shop.order_body("4", "2"), headers=shop.keyed())).json()
    clerk = await auth_headers(app, "warehouse_clerk")
    url = f"{ORDERS}/{order['id']}/shipments"
    partial = await client.post(
        url, json={"lines": [{"line_no": 1, "quantity": "3"}]}, headers=clerk
    )
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"] == "partially_shipped"
    too_much = await client.post(
        url, json={"lines": [{"line_no": 1, "quantity": "2"}]}, headers=clerk
    )
    assert too_much.status_code == 409
    assert too_much.json()["errors"][0]["pointer"] == "/lines/0/quantity"
    assert (await client.post(url, json={}, headers=shop.headers)).status_code == 403
    rest = await client.post(url, json={}, headers=clerk)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "fulfilled"
    assert [ln["shipped"] for ln in rest.json()["lines"]] == ["4.000", "2.000"]
    on_hand = dict(
        (
            await session.execute(
                select(Stock.item_id, Stock.on_hand).where(Stock.warehouse_id == shop.warehouse.id)
            )
        ).all()
    )
    assert on_hand[shop.items[0].id] == Decimal(6)
    assert on_hand[shop.items[1].id] == Decimal(8)
    assert await reserved(session, shop) == [Decimal(0)] * 3
    assert (
        await client.post(f"{ORDERS}/{order['id']}/cancel", headers=shop.headers)
    ).status_code == 409
    assert await ledger_disagreements(session) == []


async def test_integration_clients_must_send_an_idempotency_key(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    response = await client.post(ORDERS, json=shop.order_body("1"), headers=shop.headers)
    assert response.status_code == 400


async def test_a_customer_the_client_does_not_know_is_a_409_naming_the_field(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    body = shop.order_body("1", customer_external_id="K-unknown")
    response = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/customer_external_id"
    body = shop.order_body("1", customer_external_id=None, customer_id=str(uuid.uuid4()))
    response = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/customer_id"


async def test_an_order_too_large_to_total_is_a_422_not_a_server_error(
    client: httpx.AsyncClient, session: AsyncSession, shop: Shop
) -> None:
    body = shop.order_body("999999999999999")
    body["lines"][0]["unit_price"] = "999999999999999.99"
    response = await client.post(ORDERS, json=body, headers=shop.keyed())
    assert response.status_code == 422, response.text
    assert await reserved(session, shop) == [Decimal(0)] * 3

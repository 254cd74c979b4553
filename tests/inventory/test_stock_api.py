"""Stock reads: what the shop may sell, per item or per warehouse, cheap to poll."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.schemas.inventory import StockPage
from tests.factories.identity import auth_headers
from tests.factories.inventory import STOCK, make_item, make_warehouse, receive
from tests.factories.orders import ORDERS, open_shop


async def test_the_shop_reads_availability_summed_and_per_warehouse(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    item = await make_item(session, safety_stock="3")
    other = await make_item(session)
    north, south = await make_warehouse(session), await make_warehouse(session)
    await receive(session, item, north, 4)
    await receive(session, item, south, "2.5")
    await receive(session, other, north, 1)
    shop = await auth_headers(app, "webshop")

    summed = await client.get(STOCK, params={"sku": item.sku}, headers=shop)
    assert summed.status_code == 200, summed.text
    [row] = summed.json()["items"]
    assert row["sku"] == item.sku
    assert row["warehouse_id"] is None
    assert (row["on_hand"], row["reserved"], row["available"]) == ("6.500", "0.000", "6.500")
    assert row["available_for_sale"] == "3.500"

    per_warehouse = await client.get(
        STOCK, params={"sku": item.sku, "per_warehouse": "true"}, headers=shop
    )
    rows = {r["warehouse_id"]: r["on_hand"] for r in per_warehouse.json()["items"]}
    assert rows == {str(north.id): "4.000", str(south.id): "2.500"}

    one_warehouse = await client.get(
        STOCK, params={"sku": [item.sku, other.sku], "warehouse_id": str(north.id)}, headers=shop
    )
    assert {r["sku"] for r in one_warehouse.json()["items"]} == {item.sku, other.sku}


async def test_an_item_without_stock_reads_as_zero_and_unknown_skus_are_absent(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    item = await make_item(session)
    shop = await auth_headers(app, "webshop")
    response = await client.get(STOCK, params={"sku": [item.sku, "NO-SUCH-SKU"]}, headers=shop)
    [row] = response.json()["items"]
    assert (row["sku"], row["available_for_sale"]) == (item.sku, "0.000")


async def test_polling_with_the_etag_is_a_304_until_stock_moves(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    item = await make_item(session)
    north = await make_warehouse(session)
    await receive(session, item, north, 1)
    shop = await auth_headers(app, "webshop")
    first = await client.get(STOCK, params={"sku": item.sku}, headers=shop)
    etag = first.headers["etag"]
    unchanged = await client.get(
        STOCK, params={"sku": item.sku}, headers={**shop, "If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    await receive(session, item, north, 1)
    moved = await client.get(
        STOCK, params={"sku": item.sku}, headers={**shop, "If-None-Match": etag}
    )
    assert moved.status_code == 200
    assert moved.json()["items"][0]["on_hand"] == "2.000"


async def test_low_stock_lists_items_at_or_below_their_reorder_point(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    low = await make_item(session, reorder_point="5")
    fine = await make_item(session, reorder_point="5")
    untracked = await make_item(session)
    north = await make_warehouse(session)
    await receive(session, low, north, 5)
    await receive(session, fine, north, 6)
    clerk = await auth_headers(app, "warehouse_clerk")
    response = await client.get(f"{STOCK}/low", params={"limit": 500}, headers=clerk)
    assert response.status_code == 200
    listed = {row["sku"] for row in response.json()["items"]}
    assert low.sku in listed
    assert fine.sku not in listed
    assert untracked.sku not in listed
    shop = await auth_headers(app, "webshop")
    assert (await client.get(f"{STOCK}/low", headers=shop)).status_code == 403


def as_the_schema_renders(content: bytes) -> bytes:
    return StockPage.model_validate_json(content).model_dump_json().encode()


@pytest.mark.parametrize("per_warehouse", [False, True])
async def test_a_stock_page_reads_exactly_as_its_schema_renders_it_and_pages_by_cursor(
    app: FastAPI, client: httpx.AsyncClient, per_warehouse: bool
) -> None:
    # PostgreSQL renders the page; it must be byte for byte what the app would render.
    shop = await open_shop(app, client, stock=4)
    placed = await client.post(ORDERS, json=shop.order_body("1.25", "4"), headers=shop.keyed())
    assert placed.status_code == 201, placed.text
    async with app.state.db.sessions() as session:
        cautious = await make_item(session, safety_stock="9.5")
        await receive(session, cautious, shop.warehouse, "2")
        await session.commit()
    skus = [item.sku for item in shop.items] + [cautious.sku]
    params: dict[str, Any] = {"sku": skus, "limit": 3, "per_warehouse": per_warehouse}

    first = await client.get(STOCK, params=params, headers=shop.headers)
    assert first.status_code == 200, first.text
    assert first.content == as_the_schema_renders(first.content)
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    second = await client.get(STOCK, params={**params, "cursor": cursor}, headers=shop.headers)
    assert second.content == as_the_schema_renders(second.content)
    assert second.json()["next_cursor"] is None

    listed = first.json()["items"] + second.json()["items"]
    assert sorted(row["sku"] for row in listed) == sorted(skus)
    assert len(first.json()["items"]) == 3
    rows = {row["sku"]: row for row in listed}
    first_line = rows[shop.items[0].sku]
    assert (first_line["on_hand"], first_line["reserved"]) == ("4.000", "1.250")
    assert (first_line["available"], first_line["available_for_sale"]) == ("2.750", "2.750")
    assert rows[shop.items[1].sku]["available"] == "0.000"
    assert (rows[cautious.sku]["available"], rows[cautious.sku]["available_for_sale"]) == (
        "2.000",
        "0.000",
    )
    expected_warehouse = str(shop.warehouse.id) if per_warehouse else None
    assert {row["warehouse_id"] for row in rows.values()} == {expected_warehouse}


async def test_an_empty_stock_page_is_an_empty_list(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop = await auth_headers(app, "webshop")
    response = await client.get(STOCK, params={"sku": "NO-SUCH-SKU"}, headers=shop)
    assert response.json() == {"items": [], "next_cursor": None}

"""Stock reads: what the shop may sell, per item or per warehouse, cheap to poll."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.identity import auth_headers
from tests.factories.inventory import STOCK, make_item, make_warehouse, receive


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

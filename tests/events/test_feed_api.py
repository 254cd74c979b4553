"""The event feed: changes in order, only of the types a caller may read, cheap to poll."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.identity import auth_headers
from tests.factories.inventory import make_item, make_warehouse, receive

EVENTS = "/api/v1/events"


async def _all_events(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    events: list[dict] = []
    after = None
    while True:
        params = {"limit": 2} | ({"after": after} if after else {})
        page = await client.get(EVENTS, params=params, headers=headers)
        assert page.status_code == 200, page.text
        batch = page.json()["items"]
        if not batch:
            assert page.json()["next_cursor"] == after
            return events
        events += batch
        after = page.json()["next_cursor"]


async def test_the_shop_sees_item_and_stock_changes_in_order(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    item = await make_item(session)
    north = await make_warehouse(session)
    await receive(session, item, north, 3)
    await receive(session, item, north, 2)
    shop = await auth_headers(app, "webshop")
    events = [e for e in await _all_events(client, shop) if e["subject_id"] == str(item.id)]
    assert [e["type"] for e in events] == ["item.changed", "stock.changed", "stock.changed"]
    assert [e["data"].get("on_hand") for e in events[1:]] == ["3.000", "5.000"]
    assert events[0]["data"]["sku"] == item.sku
    assert len({e["id"] for e in events}) == 3

    only_stock = await client.get(EVENTS, params={"types": "stock.changed"}, headers=shop)
    assert {e["type"] for e in only_stock.json()["items"]} == {"stock.changed"}


async def test_polling_with_the_etag_is_a_304_until_something_happens(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop = await auth_headers(app, "webshop")
    item = await make_item(session)
    first = await client.get(EVENTS, params={"limit": 1000}, headers=shop)
    cursor = first.json()["next_cursor"]
    idle = await client.get(EVENTS, params={"after": cursor}, headers=shop)
    assert idle.json() == {"items": [], "next_cursor": cursor}
    again = await client.get(
        EVENTS, params={"after": cursor}, headers={**shop, "If-None-Match": idle.headers["etag"]}
    )
    assert again.status_code == 304
    await receive(session, item, await make_warehouse(session), 1)
    news = await client.get(
        EVENTS, params={"after": cursor}, headers={**shop, "If-None-Match": idle.headers["etag"]}
    )
    assert news.status_code == 200
    assert [e["type"] for e in news.json()["items"]] == ["stock.changed"]


async def test_callers_without_a_readable_type_are_refused_and_bad_cursors_named(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for role in ("receptionist", "employee", "reception_device", "hr_manager"):
        response = await client.get(EVENTS, headers=await auth_headers(app, role))
        assert response.status_code == 403, role
    shop = await auth_headers(app, "webshop")
    for bad in ("abc", "1-", "99999999999999999999-1"):
        response = await client.get(EVENTS, params={"after": bad}, headers=shop)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["parameter"] == "after"
    # Any cursor of the published syntax is a position, even past the largest one stored.
    beyond = "9999999999999999999-9999999999999999999"
    response = await client.get(EVENTS, params={"after": beyond}, headers=shop)
    assert response.status_code == 200, response.text
    assert (response.json()["items"], response.json()["next_cursor"]) == ([], beyond)


async def test_a_client_sees_changes_of_its_own_customers_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop, other = await auth_headers(app, "webshop"), await auth_headers(app, "webshop")
    body = {"name": "Erika Mustermann", "email": "erika@example.com"}
    created = await client.put("/api/v1/partners/by-external-id/K-1", json=body, headers=shop)
    assert created.status_code == 201, created.text
    partner_id = created.json()["id"]

    def partner_events(page: httpx.Response) -> list[dict]:
        return [e for e in page.json()["items"] if e["subject_id"] == partner_id]

    params = {"types": "partner.changed", "limit": 1000}
    mine = partner_events(await client.get(EVENTS, params=params, headers=shop))
    assert [e["data"]["name"] for e in mine] == ["Erika Mustermann"]
    assert partner_events(await client.get(EVENTS, params=params, headers=other)) == []
    sales = await auth_headers(app, "sales")
    assert len(partner_events(await client.get(EVENTS, params=params, headers=sales))) == 1

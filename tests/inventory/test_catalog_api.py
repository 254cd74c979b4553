"""Items and warehouses over HTTP: create, read, change, deactivate, and bad input."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from tests.factories.identity import auth_headers
from tests.factories.inventory import ITEMS, WAREHOUSES, new_item_body

PROBLEM = "application/problem+json"


@pytest.fixture
async def clerk(app: FastAPI) -> dict[str, str]:
    return await auth_headers(app, "warehouse_clerk")


async def test_a_clerk_creates_an_item_that_the_shop_can_read(
    app: FastAPI, client: httpx.AsyncClient, clerk: dict[str, str], session: AsyncSession
) -> None:
    item_id = uuid.uuid4()
    body = new_item_body(id=str(item_id), sku="  AKKU-18V ", safety_stock="2.5")
    created = await client.post(ITEMS, json=body, headers=clerk)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{ITEMS}/{item_id}"
    assert created.headers["etag"] == '"1"'
    item = created.json()
    assert item["id"] == str(item_id)
    assert item["sku"] == "AKKU-18V"
    assert item["net_price"] == "89.90"
    assert item["safety_stock"] == "2.500"

    shop = await auth_headers(app, "webshop")
    read = await client.get(f"{ITEMS}/{item_id}", headers=shop)
    assert read.status_code == 200
    assert read.json() == item

    audit = await session.scalar(select(AuditEvent).where(AuditEvent.resource_id == str(item_id)))
    assert audit is not None
    assert audit.action == "inventory.item.create"
    assert audit.after is not None
    assert audit.after["sku"] == "AKKU-18V"


async def test_skus_are_unique_and_case_sensitive(
    client: httpx.AsyncClient, clerk: dict[str, str]
) -> None:
    sku = f"abc-{uuid.uuid4().hex[:6]}"
    assert (await client.post(ITEMS, json=new_item_body(sku=sku), headers=clerk)).status_code == 201
    again = await client.post(ITEMS, json=new_item_body(sku=f" {sku}"), headers=clerk)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    other_case = await client.post(ITEMS, json=new_item_body(sku=sku.upper()), headers=clerk)
    assert other_case.status_code == 201


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"gtin": "4006381333932"}, "/gtin"),
        ({"net_price": 89.9}, "/net_price"),
        ({"net_price": "89.999"}, "/net_price"),
        ({"net_price": "-1.00"}, "/net_price"),
        ({"unit_code": "XXX"}, "/unit_code"),
        ({"currency": "XYZ"}, "/currency"),
        ({"vat_category": "luxury"}, "/vat_category"),
        ({"country_of_origin": "XX"}, "/country_of_origin"),
        ({"hs_code": "12ab"}, "/hs_code"),
        ({"name": ""}, "/name"),
        ({"colour": "red"}, "/colour"),
        ({"is_active": "yes"}, "/is_active"),
    ],
)
async def test_bad_item_fields_are_named_in_a_422(
    client: httpx.AsyncClient, clerk: dict[str, str], change: dict[str, object], pointer: str
) -> None:
    response = await client.post(ITEMS, json=new_item_body(**change), headers=clerk)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


async def test_an_update_needs_the_current_etag_and_can_clear_optional_fields(
    client: httpx.AsyncClient, clerk: dict[str, str], session: AsyncSession
) -> None:
    created = (await client.post(ITEMS, json=new_item_body(), headers=clerk)).json()
    url = f"{ITEMS}/{created['id']}"
    changed = await client.patch(
        url, json={"net_price": "99.00", "gtin": None}, headers={**clerk, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["net_price"] == "99.00"
    assert changed.json()["gtin"] is None
    assert changed.headers["etag"] == '"2"'

    stale = await client.patch(url, json={"name": "x"}, headers={**clerk, "If-Match": '"1"'})
    assert stale.status_code == 412
    not_clearable = await client.patch(url, json={"name": None}, headers=clerk)
    assert not_clearable.status_code == 422
    assert not_clearable.json()["errors"][0]["pointer"] == "/name"

    actions = (
        await session.scalars(
            select(AuditEvent.action).where(AuditEvent.resource_id == created["id"])
        )
    ).all()
    assert sorted(actions) == ["inventory.item.create", "inventory.item.update"]


async def test_deactivated_items_stay_in_the_list_as_tombstones(
    client: httpx.AsyncClient, clerk: dict[str, str]
) -> None:
    created = (await client.post(ITEMS, json=new_item_body(), headers=clerk)).json()
    first = await client.get(ITEMS, params={"sku": created["sku"]}, headers=clerk)
    since = first.json()["items"][0]["updated_at"]
    deactivated = await client.patch(
        f"{ITEMS}/{created['id']}", json={"is_active": False}, headers=clerk
    )
    assert deactivated.status_code == 200
    mirror = await client.get(ITEMS, params={"updated_since": since}, headers=clerk)
    rows = {row["id"]: row for row in mirror.json()["items"]}
    assert rows[created["id"]]["is_active"] is False


async def test_the_item_list_answers_304_when_nothing_changed(
    client: httpx.AsyncClient, clerk: dict[str, str]
) -> None:
    await client.post(ITEMS, json=new_item_body(), headers=clerk)
    first = await client.get(ITEMS, headers=clerk)
    again = await client.get(ITEMS, headers={**clerk, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_warehouse_codes_are_unique(client: httpx.AsyncClient, clerk: dict[str, str]) -> None:
    code = f"W-{uuid.uuid4().hex[:6]}"
    body = {"code": code, "name": "Hauptlager", "city": "Köln", "country": "DE"}
    created = await client.post(WAREHOUSES, json=body, headers=clerk)
    assert created.status_code == 201, created.text
    assert created.json()["code"] == code
    assert (await client.post(WAREHOUSES, json=body, headers=clerk)).status_code == 409
    bad = await client.post(
        WAREHOUSES, json=body | {"code": "X1", "country": "Deutschland"}, headers=clerk
    )
    assert bad.status_code == 422


async def test_front_office_callers_read_but_do_not_change_the_catalogue(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for role in ("sales", "webshop"):
        headers = await auth_headers(app, role)
        assert (await client.get(ITEMS, headers=headers)).status_code == 200
        refused = await client.post(ITEMS, json=new_item_body(), headers=headers)
        assert refused.status_code == 403
    receptionist = await auth_headers(app, "receptionist")
    assert (await client.get(ITEMS, headers=receptionist)).status_code == 403


async def test_every_weight_the_contract_allows_can_be_stored(
    client: httpx.AsyncClient, clerk: dict[str, str]
) -> None:
    """Found by schemathesis: 15 integer digits passed the pattern but not a NUMERIC(12, 3)."""
    body = new_item_body(weight_kg="999999999999999.999")
    response = await client.post(ITEMS, json=body, headers=clerk)
    assert response.status_code == 201, response.text
    assert response.json()["weight_kg"] == "999999999999999.999"

"""The partners API: create, read, change, deactivate, upsert by external id, visibility."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent, Partner
from tests.factories.identity import auth_headers, bearer, signed_in, with_key
from tests.factories.partners import (
    PARTNERS,
    address_body,
    by_external_id,
    new_external_id,
    partner_body,
    upsert_body,
)

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


def _pointers(response: httpx.Response) -> list[str]:
    body = _problem(response, 422)
    return [e.get("pointer", e.get("parameter")) for e in body["errors"]]


async def _audit(session: AsyncSession, partner_id: str) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.resource_type == "partner", AuditEvent.resource_id == partner_id)
        .order_by(AuditEvent.occurred_at)
    )
    return list(rows)


async def _partner_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Partner)) or 0)


# --- create, read, change ---------------------------------------------------------------------


async def test_create_then_read_a_partner(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = await auth_headers(app, "accountant")
    body = partner_body(vat_id="de 136 695 976", billing_address=address_body(city="  Berlin "))
    created = await client.post(PARTNERS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    partner = created.json()
    assert created.headers["location"] == f"{PARTNERS}/{partner['id']}"
    assert created.headers["etag"] == '"1"'
    assert partner["vat_id"] == "DE136695976"
    assert partner["billing_address"]["city"] == "Berlin"
    assert partner["is_customer"] is True
    assert partner["is_supplier"] is False
    assert partner["is_active"] is True
    assert partner["external_id"] is None
    assert partner["shipping_address"] is None

    read = await client.get(created.headers["location"], headers=headers)
    assert read.status_code == 200
    assert read.json() == partner
    assert read.headers["etag"] == '"1"'


async def test_every_reader_role_sees_the_partner(app: FastAPI, client: httpx.AsyncClient) -> None:
    created = await client.post(
        PARTNERS, json=partner_body(), headers=await auth_headers(app, "sales")
    )
    assert created.status_code == 201, created.text
    for role in ("auditor", "credit_officer", "admin", "sales"):
        read = await client.get(created.headers["location"], headers=await auth_headers(app, role))
        assert read.status_code == 200, (role, read.text)


async def test_update_honours_if_match(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = await auth_headers(app, "accountant")
    created = await client.post(PARTNERS, json=partner_body(), headers=headers)
    url = created.headers["location"]

    changed = await client.patch(
        url, json={"phone": None, "name": "Neuer Name AG"}, headers={**headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["name"] == "Neuer Name AG"
    assert changed.json()["phone"] is None
    assert changed.json()["email"] == created.json()["email"]  # not sent, not changed

    stale = await client.patch(
        url, json={"name": "Zu spät"}, headers={**headers, "If-Match": '"1"'}
    )
    assert "changed" in _problem(stale, 412)["detail"]
    read = await client.get(url, headers=headers)
    assert read.json()["name"] == "Neuer Name AG"

    malformed = await client.patch(url, json={}, headers={**headers, "If-Match": "1"})
    _problem(malformed, 400)


async def test_an_update_that_changes_nothing_keeps_the_version(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await auth_headers(app, "accountant")
    body = partner_body()
    created = (await client.post(PARTNERS, json=body, headers=headers)).json()
    same = await client.patch(
        f"{PARTNERS}/{created['id']}", json={"name": body["name"]}, headers=headers
    )
    assert same.status_code == 200
    assert same.json()["version"] == 1
    assert [e.action for e in await _audit(session, created["id"])] == ["partner.create"]


async def test_deactivated_partners_stay_readable_and_listed_as_tombstones(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await auth_headers(app, "accountant")
    created = (await client.post(PARTNERS, json=partner_body(), headers=headers)).json()
    url = f"{PARTNERS}/{created['id']}"

    gone = await client.patch(url, json={"is_active": False}, headers=headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["is_active"] is False
    listed = (await client.get(PARTNERS, headers=headers)).json()["items"]
    assert [(p["id"], p["is_active"]) for p in listed] == [(created["id"], False)]

    back = await client.patch(url, json={"is_active": True}, headers=headers)
    assert back.json()["is_active"] is True
    assert back.json()["version"] == 3
    actions = [e.action for e in await _audit(session, created["id"])]
    assert actions == ["partner.create", "partner.deactivate", "partner.reactivate"]


async def test_changes_are_audited_with_before_and_after(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    principal = await signed_in(app, "accountant")
    headers = bearer(app, principal)
    created = (await client.post(PARTNERS, json=partner_body(), headers=headers)).json()
    await client.patch(
        f"{PARTNERS}/{created['id']}", json={"vat_id": "ATU13585627"}, headers=headers
    )
    create, change = await _audit(session, created["id"])
    assert (create.action, create.actor, create.before) == (
        "partner.create",
        principal.subject,
        None,
    )
    assert create.after is not None
    assert create.after["vat_id"] == "DE136695976"
    assert create.after["billing_address"]["country"] == "DE"
    assert change.action == "partner.update"
    assert change.before is not None
    assert change.after is not None
    assert (change.before["vat_id"], change.after["vat_id"]) == ("DE136695976", "ATU13585627")
    assert change.request_id

    auditor = await auth_headers(app, "auditor")
    events = await client.get(
        "/api/v1/audit/events",
        params={"resource_type": "partner", "resource_id": created["id"]},
        headers=auditor,
    )
    assert [e["action"] for e in events.json()["items"]] == ["partner.create", "partner.update"]


async def test_a_supplier_needs_the_back_office(app: FastAPI, client: httpx.AsyncClient) -> None:
    supplier = partner_body(is_customer=False, is_supplier=True)
    refused = await client.post(PARTNERS, json=supplier, headers=await auth_headers(app, "sales"))
    assert "is_supplier" in _problem(refused, 403)["detail"]

    accountant = await auth_headers(app, "accountant")
    created = await client.post(PARTNERS, json=supplier, headers=accountant)
    assert created.status_code == 201, created.text
    assert (created.json()["is_customer"], created.json()["is_supplier"]) == (False, True)

    # Sales may edit a partner that is customer and supplier, but not drop either role.
    both = await client.patch(
        created.headers["location"], json={"is_customer": True}, headers=accountant
    )
    assert both.status_code == 200
    sales = await auth_headers(app, "sales")
    renamed = await client.patch(created.headers["location"], json={"name": "X"}, headers=sales)
    assert renamed.status_code == 200, renamed.text
    dropped = await client.patch(
        created.headers["location"], json={"is_supplier": False}, headers=sales
    )
    _problem(dropped, 403)


# --- idempotent creation ----------------------------------------------------------------------


async def test_a_repeated_create_is_replayed_not_repeated(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = with_key(await auth_headers(app, "sales"), f"create-{uuid.uuid4().hex}")
    body = partner_body()
    first = await client.post(PARTNERS, json=body, headers=headers)
    again = await client.post(PARTNERS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert await _partner_count(session) == 1

    other = await client.post(PARTNERS, json=partner_body(), headers=headers)
    _problem(other, 422)


async def test_integration_clients_must_send_an_idempotency_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop = await auth_headers(app, "webshop")
    missing = await client.post(PARTNERS, json=partner_body(), headers=shop)
    assert "Idempotency-Key" in _problem(missing, 400)["detail"]
    sent = await client.post(PARTNERS, json=partner_body(), headers=with_key(shop, "k-1"))
    assert sent.status_code == 201, sent.text


async def test_a_client_supplied_id_is_kept_and_unique(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await auth_headers(app, "accountant")
    partner_id = str(uuid.uuid4())
    created = await client.post(PARTNERS, json=partner_body(id=partner_id), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == partner_id
    twice = await client.post(PARTNERS, json=partner_body(id=partner_id), headers=headers)
    assert "exists" in _problem(twice, 409)["detail"]


# --- upsert by external id --------------------------------------------------------------------


async def test_upsert_creates_then_updates_then_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop = await auth_headers(app, "webshop")
    url = by_external_id(new_external_id())

    created = await client.put(url, json=upsert_body(phone="089 123456"), headers=shop)
    assert created.status_code == 201, created.text
    partner = created.json()
    assert created.headers["location"] == f"{PARTNERS}/{partner['id']}"
    assert created.headers["etag"] == '"1"'
    assert partner["external_id"] == url.rsplit("/", 1)[1]
    assert (partner["is_customer"], partner["is_supplier"], partner["is_active"]) == (
        True,
        False,
        True,
    )

    same = await client.put(url, json=upsert_body(phone="089 123456"), headers=shop)
    assert same.status_code == 200, same.text
    assert same.json() == partner
    assert "location" not in same.headers

    changed = await client.put(url, json=upsert_body(name="Erika Musterfrau"), headers=shop)
    assert changed.status_code == 200
    assert changed.json()["name"] == "Erika Musterfrau"
    assert changed.json()["phone"] is None  # left out of the PUT: cleared
    assert changed.json()["version"] == 2
    assert changed.headers["etag"] == '"2"'

    read = await client.get(url, headers=shop)
    assert read.json() == changed.json()
    assert read.headers["etag"] == '"2"'
    by_id = await client.get(f"{PARTNERS}/{partner['id']}", headers=shop)
    assert by_id.json() == changed.json()

    events = await _audit(session, partner["id"])
    assert [e.action for e in events] == ["partner.create", "partner.update"]
    assert events[0].after is not None
    assert events[0].after["external_id"] == partner["external_id"]
    assert await _partner_count(session) == 1


async def test_upsert_keeps_the_back_offices_roles_and_active_flag(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop = await auth_headers(app, "webshop")
    url = by_external_id(new_external_id())
    partner_id = (await client.put(url, json=upsert_body(), headers=shop)).json()["id"]
    accountant = await auth_headers(app, "accountant")
    decided = await client.patch(
        f"{PARTNERS}/{partner_id}",
        json={"is_supplier": True, "is_active": False},
        headers=accountant,
    )
    assert decided.status_code == 200, decided.text

    synced = await client.put(url, json=upsert_body(email="neu@example.com"), headers=shop)
    assert synced.status_code == 200
    assert synced.json()["email"] == "neu@example.com"
    assert (synced.json()["is_supplier"], synced.json()["is_active"]) == (True, False)

    for field in ("is_customer", "is_active", "id"):
        refused = await client.put(url, json=upsert_body(**{field: True}), headers=shop)
        assert _pointers(refused) == [f"/{field}"]


async def test_upsert_honours_if_match(app: FastAPI, client: httpx.AsyncClient) -> None:
    shop = await auth_headers(app, "webshop")
    url = by_external_id(new_external_id())
    not_yet = await client.put(url, json=upsert_body(), headers={**shop, "If-Match": "*"})
    _problem(not_yet, 412)
    assert (await client.get(url, headers=shop)).status_code == 404  # nothing was created

    await client.put(url, json=upsert_body(), headers=shop)
    current = await client.put(
        url, json=upsert_body(name="Zweiter Stand"), headers={**shop, "If-Match": '"1"'}
    )
    assert current.status_code == 200, current.text
    stale = await client.put(
        url, json=upsert_body(name="Dritter Stand"), headers={**shop, "If-Match": '"1"'}
    )
    _problem(stale, 412)
    assert (await client.get(url, headers=shop)).json()["name"] == "Zweiter Stand"


async def test_people_are_told_external_ids_are_for_clients(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for role in ("sales", "admin"):
        headers = await auth_headers(app, role)
        for method in ("GET", "PUT"):
            response = await client.request(
                method, by_external_id("K-1"), json=upsert_body(), headers=headers
            )
            assert "integration clients" in _problem(response, 403)["detail"]


# --- visibility -------------------------------------------------------------------------------


async def test_clients_see_and_change_only_their_own_partners(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop_a = await auth_headers(app, "webshop")
    shop_b = await auth_headers(app, "webshop")
    external_id = new_external_id()
    of_b = (
        await client.put(by_external_id(external_id), json=upsert_body(), headers=shop_b)
    ).json()
    by_staff = (
        await client.post(PARTNERS, json=partner_body(), headers=await auth_headers(app, "sales"))
    ).json()
    posted_by_a = await client.post(
        PARTNERS, json=partner_body(), headers=with_key(shop_a, uuid.uuid4().hex)
    )
    assert posted_by_a.status_code == 201, posted_by_a.text

    for hidden in (of_b["id"], by_staff["id"]):
        read = await client.get(f"{PARTNERS}/{hidden}", headers=shop_a)
        assert _problem(read, 404)["detail"] == "no such partner"
        changed = await client.patch(f"{PARTNERS}/{hidden}", json={"name": "X"}, headers=shop_a)
        _problem(changed, 404)
    # Not found either when A sends an If-Match: the version must not leak.
    guessed = await client.patch(
        f"{PARTNERS}/{of_b['id']}", json={}, headers={**shop_a, "If-Match": '"1"'}
    )
    _problem(guessed, 404)

    listed = (await client.get(PARTNERS, headers=shop_a)).json()["items"]
    assert [p["id"] for p in listed] == [posted_by_a.json()["id"]]
    own = await client.get(posted_by_a.headers["location"], headers=shop_a)
    assert own.status_code == 200

    # The same external id is A's own key: a different partner.
    of_a = await client.put(by_external_id(external_id), json=upsert_body(), headers=shop_a)
    assert of_a.status_code == 201
    assert of_a.json()["id"] != of_b["id"]
    assert (await client.get(by_external_id(external_id), headers=shop_b)).json()["id"] == of_b[
        "id"
    ]
    # People see all of them, without any client's external id.
    everyone = (await client.get(PARTNERS, headers=await auth_headers(app, "auditor"))).json()
    assert len(everyone["items"]) == 4
    assert all(p["external_id"] is None for p in everyone["items"])


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"vat_id": "DE136695977"}, "/vat_id"),
        ({"vat_id": "GB980780684"}, "/vat_id"),
        ({"vat_id": 136695976}, "/vat_id"),
        ({"billing_address": address_body(country="XX")}, "/billing_address/country"),
        ({"billing_address": address_body(country="de")}, "/billing_address/country"),
        ({"billing_address": address_body(city=None)}, "/billing_address/city"),
        ({"billing_address": address_body(zip="10117")}, "/billing_address/zip"),
        ({"nickname": "Mausi"}, "/nickname"),
        ({"created_by": str(uuid.uuid4())}, "/created_by"),
        ({"version": 7}, "/version"),
        ({"is_customer": "yes"}, "/is_customer"),
        ({"is_customer": 1}, "/is_customer"),
        ({"name": 123}, "/name"),
        ({"name": ""}, "/name"),
        ({"name": "   "}, "/name"),
        ({"name": "x" * 201}, "/name"),
        ({"name": "Nul\x00Byte"}, "/name"),
        ({"email": "not an address"}, "/email"),
        ({"phone": "call me"}, "/phone"),
        ({"id": "not-a-uuid"}, "/id"),
    ],
)
async def test_bad_values_are_422_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, changes: dict[str, Any], pointer: str
) -> None:
    headers = await auth_headers(app, "accountant")
    response = await client.post(PARTNERS, json=partner_body(**changes), headers=headers)
    assert pointer in _pointers(response)


async def test_a_partner_without_a_role_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = await auth_headers(app, "accountant")
    response = await client.post(PARTNERS, json=partner_body(is_customer=False), headers=headers)
    assert _pointers(response) == ["/is_customer", "/is_supplier"]
    created = (await client.post(PARTNERS, json=partner_body(), headers=headers)).json()
    patched = await client.patch(
        f"{PARTNERS}/{created['id']}", json={"is_customer": False}, headers=headers
    )
    assert _pointers(patched) == ["/is_customer", "/is_supplier"]


@pytest.mark.parametrize("field", ["name", "is_customer", "is_supplier", "is_active"])
async def test_a_value_every_partner_has_cannot_be_patched_to_null(
    app: FastAPI, client: httpx.AsyncClient, field: str
) -> None:
    headers = await auth_headers(app, "accountant")
    created = (await client.post(PARTNERS, json=partner_body(), headers=headers)).json()
    response = await client.patch(
        f"{PARTNERS}/{created['id']}", json={field: None}, headers=headers
    )
    assert _pointers(response) == [f"/{field}"]


@pytest.mark.parametrize(
    "external_id",
    ["x" * 101, ".hidden", "K%201", "K%C3%A4"],
    ids=["too-long", "dot", "space", "umlaut"],
)
async def test_bad_external_ids_are_422_naming_the_parameter(
    app: FastAPI, client: httpx.AsyncClient, external_id: str
) -> None:
    shop = await auth_headers(app, "webshop")
    response = await client.put(by_external_id(external_id), json=upsert_body(), headers=shop)
    assert _pointers(response) == ["external_id"]


async def test_the_upsert_body_is_checked_like_any_other(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop = await auth_headers(app, "webshop")
    url = by_external_id(new_external_id())
    missing_name = await client.put(url, json={"email": "a@example.com"}, headers=shop)
    assert _pointers(missing_name) == ["/name"]
    bad_vat = await client.put(url, json=upsert_body(vat_id="DE000000001"), headers=shop)
    assert _pointers(bad_vat) == ["/vat_id"]
    assert (await client.get(url, headers=shop)).status_code == 404


# --- the list ---------------------------------------------------------------------------------


async def test_the_list_pages_by_cursor_and_filters_by_updated_since(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await auth_headers(app, "accountant")
    ids = [
        (await client.post(PARTNERS, json=partner_body(), headers=headers)).json()["id"]
        for _ in range(5)
    ]
    # One transaction, one now(): spread the partners over time as a day of changes would.
    base = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    for minutes, partner_id in enumerate(ids):
        await session.execute(
            update(Partner)
            .where(Partner.id == uuid.UUID(partner_id))
            .values(updated_at=base + timedelta(minutes=minutes))
        )
    await session.flush()

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(PARTNERS, params=params, headers=headers)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids

    since = (base + timedelta(minutes=3)).isoformat()
    changed = (await client.get(PARTNERS, params={"updated_since": since}, headers=headers)).json()
    assert [p["id"] for p in changed["items"]] == ids[3:]

    # A deactivation is a change like any other: a mirror polling since then learns of it.
    await client.patch(f"{PARTNERS}/{ids[0]}", json={"is_active": False}, headers=headers)
    after = (await client.get(PARTNERS, params={"updated_since": since}, headers=headers)).json()
    assert [(p["id"], p["is_active"]) for p in after["items"]][-1] == (ids[0], False)

    bad = await client.get(PARTNERS, params={"updated_since": "yesterday"}, headers=headers)
    assert _pointers(bad) == ["updated_since"]

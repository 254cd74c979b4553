"""Webhook subscriptions over HTTP: a client's own, made by admins for clients, secrets shown
once, targets inside our network refused."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from tests.factories.identity import auth_headers, bearer, signed_in, with_key

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"
PUBLIC_URL = "https://93.184.215.14/hooks/backoffice"


def _body(client_id: uuid.UUID, **overrides: object) -> dict[str, object]:
    return {
        "client_id": str(client_id),
        "url": PUBLIC_URL,
        "event_types": ["order.status_changed", "stock.changed"],
    } | overrides


async def test_a_client_subscribes_itself_and_sees_the_secret_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop = await signed_in(app, "webshop")
    headers = with_key(bearer(app, shop), uuid.uuid4().hex)
    made = await client.post(SUBSCRIPTIONS, json=_body(shop.id), headers=headers)
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["client_id"] == str(shop.id)
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["order.status_changed", "stock.changed"]
    assert made.headers["location"] == f"{SUBSCRIPTIONS}/{created['id']}"
    assert made.headers["cache-control"] == "no-store"

    read = await client.get(made.headers["location"], headers=bearer(app, shop))
    assert read.status_code == 200
    assert "secret" not in read.json()
    listed = await client.get(SUBSCRIPTIONS, headers=bearer(app, shop))
    assert [s["id"] for s in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]

    audited = await session.scalars(
        select(AuditEvent.after).where(AuditEvent.resource_id == created["id"])
    )
    assert created["secret"] not in str(list(audited))


async def test_another_client_neither_sees_nor_changes_the_subscription(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await signed_in(app, "webshop")
    owned = _body(owner.id)
    made = await client.post(SUBSCRIPTIONS, json=owned, headers=with_key(bearer(app, owner), "k1"))
    other = await auth_headers(app, "webshop")
    where = f"{SUBSCRIPTIONS}/{made.json()['id']}"
    assert (await client.get(where, headers=other)).status_code == 404
    assert (await client.patch(where, json={"is_active": False}, headers=other)).status_code == 404
    rotate = await client.post(f"{where}/rotate-secret", headers=other)
    assert rotate.status_code == 404
    assert (await client.get(SUBSCRIPTIONS, headers=other)).json()["items"] == []
    forged = await client.post(SUBSCRIPTIONS, json=owned, headers=with_key(other, "k2"))
    assert forged.status_code == 403


async def test_targets_inside_our_network_are_refused_at_creation_and_change(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    caller = await signed_in(app, "webshop")
    shop = bearer(app, caller)
    for n, url in enumerate(
        [
            "http://127.0.0.1:8000/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.1.2.3/hook",
            "https://[::1]/hook",
            "https://localhost/hook",
        ]
    ):
        keyed = with_key(shop, f"u{n}")
        refused = await client.post(SUBSCRIPTIONS, json=_body(caller.id, url=url), headers=keyed)
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["errors"][0]["pointer"] == "/url"
    made = await client.post(SUBSCRIPTIONS, json=_body(caller.id), headers=with_key(shop, "ok"))
    changed = await client.patch(
        f"{SUBSCRIPTIONS}/{made.json()['id']}", json={"url": "https://192.168.0.5/"}, headers=shop
    )
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["pointer"] == "/url"


async def test_a_client_is_subscribed_only_to_events_it_may_read(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await auth_headers(app, "admin")
    tablet = await signed_in(app, "reception_device")
    orders = _body(tablet.id, event_types=["stock.changed", "order.status_changed"])
    refused = await client.post(SUBSCRIPTIONS, json=orders, headers=with_key(admin, "t"))
    assert refused.status_code == 409
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/event_types/0", "/event_types/1"]


async def test_an_admin_subscribes_a_client_which_then_sees_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await auth_headers(app, "admin")
    shop = await signed_in(app, "webshop")
    unknown = _body(uuid.uuid4())
    nobody = await client.post(SUBSCRIPTIONS, json=unknown, headers=with_key(admin, "a2"))
    assert nobody.status_code == 409
    assert nobody.json()["errors"][0]["pointer"] == "/client_id"
    made = await client.post(SUBSCRIPTIONS, json=_body(shop.id), headers=with_key(admin, "a3"))
    assert made.status_code == 201, made.text
    listed = await client.get(SUBSCRIPTIONS, headers=bearer(app, shop))
    assert [s["id"] for s in listed.json()["items"]] == [made.json()["id"]]


async def test_a_deactivated_client_cannot_be_subscribed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await auth_headers(app, "admin")
    shop = await signed_in(app, "webshop")
    off = await client.patch(
        f"/api/v1/admin/clients/{shop.id}", json={"is_active": False}, headers=admin
    )
    assert off.status_code == 200, off.text
    refused = await client.post(SUBSCRIPTIONS, json=_body(shop.id), headers=with_key(admin, "d"))
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["pointer"] == "/client_id"


async def test_rotating_the_secret_gives_a_new_one_and_honours_if_match(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    caller = await signed_in(app, "webshop")
    shop = bearer(app, caller)
    made = await client.post(SUBSCRIPTIONS, json=_body(caller.id), headers=with_key(shop, "r"))
    where = f"{SUBSCRIPTIONS}/{made.json()['id']}"
    stale = await client.post(f"{where}/rotate-secret", headers={**shop, "If-Match": '"99"'})
    assert stale.status_code == 412
    rotated = await client.post(
        f"{where}/rotate-secret", headers={**shop, "If-Match": made.headers["etag"]}
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != made.json()["secret"]
    assert rotated.json()["version"] == made.json()["version"] + 1
    paused = await client.patch(where, json={"is_active": False}, headers=shop)
    assert paused.status_code == 200
    assert paused.json()["is_active"] is False

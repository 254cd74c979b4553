"""The delivery log and replays over HTTP; a subscription paused by repeated failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from app.db.models import AuditEvent
from tests.conftest import CommittedApp
from tests.factories.identity import auth_headers
from tests.factories.orders import Shop, open_shop
from tests.webhooks.receiver import Receiver, receiving
from tests.webhooks.test_delivery import (
    FAST_RETRIES,
    SUBSCRIPTIONS,
    place_orders,
    subscribe,
    until,
    worker,
)

WEBHOOKS = "/api/v1/webhooks"
# A delivery fails for good within about a second; two such in a row pause the subscription.
GIVE_UP_SOON = FAST_RETRIES | {"webhook_retry_seconds": 1, "webhook_pause_after_failures": 2}


async def _log(client: httpx.AsyncClient, shop: Shop, subscription_id: str) -> list[dict[str, Any]]:
    listed = await client.get(f"{SUBSCRIPTIONS}/{subscription_id}/deliveries", headers=shop.headers)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    # In the order they were queued: deliveries made together by event order.
    return sorted(items, key=lambda d: (d["created_at"], *map(int, d["event_id"].split("-"))))


async def test_failing_deliveries_pause_the_subscription_and_replays_send_them_again(
    committed_app_with: CommittedApp,
) -> None:
    async with (
        committed_app_with(**GIVE_UP_SOON) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver(failing=True)) as receiver,
    ):
        shop = await open_shop(app, client)
        began = datetime.now(UTC)
        subscription = await subscribe(client, shop, receiver.url, ["order.status_changed"])
        location = f"{SUBSCRIPTIONS}/{subscription['id']}"
        async with worker(app):
            await place_orders(client, shop, 2)

            async def paused() -> bool:
                read = await client.get(location, headers=shop.headers)
                return read.json()["is_active"] is False

            await until(paused, "the subscription to be paused")
            read = await client.get(location, headers=shop.headers)
            assert read.json()["paused_reason"] == "deliveries kept failing"

            failed = await _log(client, shop, subscription["id"])
            assert [d["status"] for d in failed] == ["failed", "failed"]
            for delivery in failed:
                assert delivery["next_attempt_at"] is None
                assert delivery["attempt_count"] == len(delivery["attempts"]) >= 1
                assert {a["status_code"] for a in delivery["attempts"]} == {500}
                assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])
            first = failed[0]
            off = await client.post(
                f"{WEBHOOKS}/deliveries/{first['id']}/replay", headers=shop.keyed()
            )
            assert off.status_code == 409, off.text

            receiver.failing = False
            switched_on = await client.patch(
                location,
                json={"is_active": True},
                headers={**shop.headers, "If-Match": read.headers["etag"]},
            )
            assert switched_on.status_code == 200, switched_on.text
            assert switched_on.json()["paused_reason"] is None

            replayed = await client.post(
                f"{WEBHOOKS}/deliveries/{first['id']}/replay", headers=shop.keyed()
            )
            assert replayed.status_code == 202, replayed.text
            assert replayed.json()["replay_of"] == first["id"]
            assert replayed.json()["event_id"] == first["event_id"]

            ranged = await client.post(
                f"{location}/replay",
                json={"since": began.isoformat(), "until": datetime.now(UTC).isoformat()},
                headers=shop.keyed(),
            )
            assert ranged.status_code == 202, ranged.text
            assert ranged.json() == {"queued": 2}

            async def all_sent() -> bool:
                return len(receiver.delivered()) == 3

            await until(all_sent, "the replays at the receiver")

        sent = [p.headers["webhook-id"] for p in receiver.delivered()]
        assert sent == [first["event_id"], first["event_id"], failed[1]["event_id"]]
        delivered = await client.get(replayed.headers["location"], headers=shop.headers)
        assert delivered.json()["status"] == "delivered"
        async with app.state.db.sessions() as session:
            actions = set(
                (
                    await session.scalars(
                        select(AuditEvent.action).where(
                            AuditEvent.resource_id == subscription["id"]
                        )
                    )
                ).all()
            )
        assert {
            "webhooks.subscription.pause",
            "webhooks.delivery.replay",
            "webhooks.subscription.replay",
        } <= actions


async def test_another_client_neither_reads_nor_replays_the_deliveries(
    committed_app_with: CommittedApp,
) -> None:
    async with (
        committed_app_with(**FAST_RETRIES) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver()) as receiver,
    ):
        shop = await open_shop(app, client)
        subscription = await subscribe(client, shop, receiver.url)
        async with worker(app):
            await place_orders(client, shop, 1)

            async def logged() -> bool:
                return len(await _log(client, shop, subscription["id"])) > 0

            await until(logged, "a delivery in the log")
        delivery = (await _log(client, shop, subscription["id"]))[0]

        other = await open_shop(app, client)
        attempts = [
            client.get(f"{SUBSCRIPTIONS}/{subscription['id']}/deliveries", headers=other.headers),
            client.get(f"{WEBHOOKS}/deliveries/{delivery['id']}", headers=other.headers),
            client.post(f"{WEBHOOKS}/deliveries/{delivery['id']}/replay", headers=other.keyed()),
            client.post(
                f"{SUBSCRIPTIONS}/{subscription['id']}/replay",
                json={"since": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"},
                headers=other.keyed(),
            ),
        ]
        for attempt in attempts:
            assert (await attempt).status_code == 404

        admin = await auth_headers(app, "admin")
        as_admin = await client.get(f"{WEBHOOKS}/deliveries/{delivery['id']}", headers=admin)
        assert as_admin.status_code == 200
        backwards = await client.post(
            f"{SUBSCRIPTIONS}/{subscription['id']}/replay",
            json={"since": "2027-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            headers={**admin, "Idempotency-Key": "backwards"},
        )
        assert backwards.status_code == 422
        assert backwards.json()["errors"][0]["pointer"] == "/until"

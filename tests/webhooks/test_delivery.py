"""Webhook delivery end to end: a real worker posts to a receiver on loopback (allowed by the
test settings), against real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.db.models import Client, WebhookAttempt, WebhookDelivery
from app.domain.webhooks.signing import verify
from app.domain.webhooks.targets import Address, resolve
from app.jobs.worker import run_worker
from tests.conftest import CommittedApp
from tests.factories.orders import ORDERS, Shop, open_shop
from tests.webhooks.receiver import Receiver, receiving

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"
TYPES = ["order.status_changed", "stock.changed"]
# Quick retries, so a test sees several attempts within a second.
FAST_RETRIES: dict[str, object] = {
    "webhook_allowed_hosts": "127.0.0.1",
    "webhook_first_backoff_seconds": 0.05,
    "webhook_max_backoff_seconds": 0.2,
    "webhook_retry_seconds": 60,
    "webhook_timeout_seconds": 2,
}


@asynccontextmanager
async def worker(
    app: FastAPI, *, settings: Any = None, resolver: Any = resolve
) -> AsyncIterator[None]:
    """A worker (listening for new events) running while the block runs."""
    task = asyncio.get_running_loop().create_task(
        run_worker(
            settings or app.state.settings,
            app.state.db,
            concurrency=4,
            install_signal_handlers=False,
            resolver=resolver,
        )
    )
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30) -> None:
    ends = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < ends, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def subscribe(
    client: httpx.AsyncClient, shop: Shop, url: str, types: list[str] = TYPES
) -> dict[str, Any]:
    body = {"client_id": str(shop.client_id), "url": url, "event_types": types}
    made = await client.post(SUBSCRIPTIONS, json=body, headers=shop.keyed())
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


async def place_orders(client: httpx.AsyncClient, shop: Shop, count: int) -> None:
    for _ in range(count):
        placed = await client.post(ORDERS, json=shop.order_body("1", "2"), headers=shop.keyed())
        assert placed.status_code == 201, placed.text


async def feed_after(
    client: httpx.AsyncClient, shop: Shop, cursor: str | None, types: list[str] = TYPES
) -> tuple[list[dict[str, Any]], str | None]:
    """The shop's feed events of `types` after `cursor` (what its webhooks must carry)."""
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"after": cursor} if cursor else {})
        page = await client.get("/api/v1/events", params=params, headers=shop.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        events += [e for e in body["items"] if e["type"] in types]
        if not body["items"]:
            return events, cursor
        cursor = body["next_cursor"]


async def drained(
    client: httpx.AsyncClient,
    shop: Shop,
    start: str | None,
    receiver: Receiver,
    copies: int = 1,
    types: list[str] = TYPES,
) -> list[dict[str, Any]]:
    """The feed's events after `start` once the receiver has had `copies` of each: the feed
    shows an event only when every older transaction has ended (a worker's too)."""
    expected: list[dict[str, Any]] = []

    async def caught_up() -> bool:
        nonlocal expected
        expected, _ = await feed_after(client, shop, start, types)
        return len(receiver.delivered()) >= copies * len(expected) > 0

    await until(caught_up, "every event at the receiver")
    await asyncio.sleep(0.3)  # anything sent twice or too many would have arrived by now
    return expected


async def test_every_event_arrives_in_order_signed_and_once_by_its_id(
    committed_app_with: CommittedApp,
) -> None:
    async with (
        committed_app_with(**FAST_RETRIES) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver(fail_first=3)) as receiver,
    ):
        shop = await open_shop(app, client)
        _, start = await feed_after(client, shop, None)
        subscription = await subscribe(client, shop, receiver.url)
        async with worker(app):
            await place_orders(client, shop, 5)
            expected = await drained(client, shop, start, receiver)

        ids = [post.headers["webhook-id"] for post in receiver.delivered()]
        assert ids == [event["id"] for event in expected]  # in order, each once
        # The first three attempts failed (500) and were retried; nothing else was sent.
        assert len(receiver.posts) == len(expected) + 3
        assert {p.headers["webhook-id"] for p in receiver.posts[:4]} == {expected[0]["id"]}
        for post, event in zip(receiver.delivered(), expected, strict=True):
            verify(subscription["secret"], post.headers, post.body, now=int(time.time()))
            assert json.loads(post.body) == event
            assert post.headers["content-type"] == "application/json"


async def test_two_workers_never_post_the_same_attempt_twice(
    committed_app_with: CommittedApp,
) -> None:
    async with (
        committed_app_with(**FAST_RETRIES) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver(fail_first=6)) as receiver,
    ):
        shop = await open_shop(app, client, stock=100)
        _, start = await feed_after(client, shop, None)
        first = await subscribe(client, shop, receiver.url + "/a")
        second = await subscribe(client, shop, receiver.url + "/b")
        async with worker(app), worker(app):
            await place_orders(client, shop, 15)
            expected = await drained(client, shop, start, receiver, copies=2)

        for subscription, path in ((first, "/hooks/a"), (second, "/hooks/b")):
            ids = [p.headers["webhook-id"] for p in receiver.delivered() if p.path == path]
            assert ids == [event["id"] for event in expected], subscription["id"]
        async with app.state.db.sessions() as session:
            logged = Counter(
                {
                    (subscription_id, position): count
                    for subscription_id, position, count in await session.execute(
                        select(
                            WebhookDelivery.subscription_id,
                            WebhookDelivery.event_position,
                            func.count(WebhookAttempt.number),
                        )
                        .join(WebhookAttempt)
                        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.event_position)
                    )
                }
            )
            statuses = Counter((await session.scalars(select(WebhookDelivery.status))).all())
        assert statuses == {"delivered": 2 * len(expected)}
        # Every post is one logged attempt of its delivery: none went out twice.
        by_path = {"/hooks/a": uuid.UUID(first["id"]), "/hooks/b": uuid.UUID(second["id"])}
        posted = Counter(
            (by_path[p.path], int(p.headers["webhook-id"].split("-")[1])) for p in receiver.posts
        )
        assert posted == logged


async def _refused_attempts(app: FastAPI) -> list[str | None]:
    async with app.state.db.sessions() as session:
        return list((await session.scalars(select(WebhookAttempt.error))).all())


def _maps_to_loopback(name: str) -> Callable[[str, int], Awaitable[list[Address]]]:
    async def resolver(host: str, port: int) -> list[Address]:
        if host == name:
            return await resolve("127.0.0.1", port)
        return await resolve(host, port)

    return resolver


async def test_a_target_that_turned_private_is_refused_at_delivery(
    committed_app_with: CommittedApp,
) -> None:
    """Subscriptions made while the hosts were allowed (or resolved to public addresses) are
    refused when the worker finds them private: the receiver on loopback hears nothing."""
    allowed = "127.0.0.1,169.254.169.254,10.0.0.7,::1,rebind.test"
    async with (
        committed_app_with(**(FAST_RETRIES | {"webhook_allowed_hosts": allowed})) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver()) as receiver,
    ):
        shop = await open_shop(app, client)
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        targets = [
            receiver.url,
            "http://169.254.169.254/latest/meta-data/",
            f"http://10.0.0.7:{port}/hooks",
            f"http://[::1]:{port}/hooks",
            f"http://rebind.test:{port}/hooks",
        ]
        for target in targets:
            await subscribe(client, shop, target)
        strict = app.state.settings.model_copy(update={"webhook_allowed_hosts": ""})
        async with worker(app, settings=strict, resolver=_maps_to_loopback("rebind.test")):
            await place_orders(client, shop, 1)

            async def all_tried() -> bool:
                return len(await _refused_attempts(app)) >= len(targets)

            await until(all_tried, "an attempt at every target")

        assert receiver.posts == []
        errors = await _refused_attempts(app)
        assert all(e is not None and e.startswith("refused:") for e in errors), errors
        assert any("127.0.0.1" in str(e) for e in errors)


async def test_a_client_is_told_of_its_own_orders_only(committed_app_with: CommittedApp) -> None:
    async with (
        committed_app_with(**FAST_RETRIES) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver()) as receiver,
    ):
        shop = await open_shop(app, client)
        other = await open_shop(app, client, warehouse=shop.warehouse, items=shop.items)
        _, start = await feed_after(client, shop, None, ["order.status_changed"])
        await subscribe(client, shop, receiver.url, ["order.status_changed"])
        async with worker(app):
            await place_orders(client, other, 2)
            await place_orders(client, shop, 1)
            await place_orders(client, other, 2)
            expected = await drained(client, shop, start, receiver, types=["order.status_changed"])

        assert len(expected) == 1  # the feed shows the shop its own order only
        assert [json.loads(p.body) for p in receiver.posts] == expected


async def test_a_client_whose_role_no_longer_reads_the_events_is_sent_none(
    committed_app_with: CommittedApp,
) -> None:
    """Least privilege: what a client is sent follows its role now, not when it subscribed."""
    async with (
        committed_app_with(**FAST_RETRIES) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        receiving(Receiver()) as receiver,
    ):
        shop = await open_shop(app, client)
        demoted = await open_shop(app, client, warehouse=shop.warehouse, items=shop.items)
        await subscribe(client, demoted, receiver.url + "/demoted", ["stock.changed"])
        await subscribe(client, shop, receiver.url + "/shop", ["stock.changed"])
        async with app.state.db.sessions() as session:
            await session.execute(
                update(Client).where(Client.id == demoted.client_id).values(role="reception_device")
            )
            await session.commit()
        async with worker(app):
            await place_orders(client, shop, 2)

            async def shop_told() -> bool:
                return len(receiver.delivered()) >= 2 * len(shop.items[:2])

            await until(shop_told, "the shop's stock events")
            await asyncio.sleep(0.3)

        assert {p.path for p in receiver.posts} == {"/hooks/shop"}

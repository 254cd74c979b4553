"""Reservations that run out: the worker releases them, once, however many workers run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app.config import Settings
from app.db.migrations import upgrade_to_head
from app.db.models import AuditEvent, Movement, Order, Stock
from app.db.session import unit_of_work
from app.domain.orders.service import expire_overdue_orders
from app.jobs.queue import job_queue
from app.jobs.tasks import WORKER_ACTOR
from app.jobs.worker import run_worker
from app.main import create_app
from tests.databases import scratch_database_async
from tests.factories.inventory import ledger_disagreements
from tests.factories.orders import ORDERS, Shop, open_shop


def _instant(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def _place(client: httpx.AsyncClient, shop: Shop, *quantities: str, **body: str) -> str:
    body_ = shop.order_body(*quantities, **body)
    response = await client.post(ORDERS, json=body_, headers=shop.keyed())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _reserved(app: FastAPI, shop: Shop) -> list[Decimal]:
    async with app.state.db.sessions() as session:
        rows = dict(
            (
                await session.execute(
                    select(Stock.item_id, Stock.reserved).where(
                        Stock.warehouse_id == shop.warehouse.id
                    )
                )
            ).all()
        )
    return [rows[item.id] for item in shop.items]


async def test_the_worker_expires_a_run_out_reservation_and_leaves_the_others(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    shop = await open_shop(committed_app, committed_client, stock=10)
    past, future = _instant(-timedelta(seconds=1)), _instant(timedelta(hours=1))
    ran_out = await _place(committed_client, shop, "2", "1", reserve_until=past)
    later = await _place(committed_client, shop, "1", reserve_until=future)
    open_ended = await _place(committed_client, shop, "3")

    settings = committed_app.state.settings
    async with job_queue(settings).open_async() as queue:
        await queue.configure_task("expire_reservations").defer_async(timestamp=0)
    # wait=False: the worker runs what is queued, then stops.
    await run_worker(
        settings,
        committed_app.state.db,
        concurrency=2,
        wait=False,
        install_signal_handlers=False,
    )

    statuses = {}
    for order_id in (ran_out, later, open_ended):
        read = await committed_client.get(f"{ORDERS}/{order_id}", headers=shop.headers)
        statuses[order_id] = read.json()["status"]
    assert statuses == {ran_out: "expired", later: "reserved", open_ended: "reserved"}
    assert await _reserved(committed_app, shop) == [Decimal(4), Decimal(0), Decimal(0)]
    async with committed_app.state.db.sessions() as session:
        assert await ledger_disagreements(session) == []
        expiry = AuditEvent.action == "orders.order.expire"
        audited = await session.scalar(select(func.count()).select_from(AuditEvent).where(expiry))
        assert audited == 1
    assert await _expired_in_feed(committed_client, shop) == [ran_out]


async def _expired_in_feed(client: httpx.AsyncClient, shop: Shop) -> list[str]:
    """The orders the feed reports expired, once it reports any: the feed shows an event when
    every older transaction on the server has ended, other tests' included."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        events = await client.get(
            "/api/v1/events", params={"types": "order.status_changed"}, headers=shop.headers
        )
        expired = [
            e["subject_id"] for e in events.json()["items"] if e["data"]["status"] == "expired"
        ]
        if expired or loop.time() > deadline:
            return expired
        await asyncio.sleep(0.1)


async def test_concurrent_workers_expire_each_order_exactly_once(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    shop = await open_shop(committed_app, committed_client, stock=100)
    past = _instant(-timedelta(seconds=1))
    placed = [await _place(committed_client, shop, "1", "1", reserve_until=past) for _ in range(24)]
    db = committed_app.state.db

    async def worker() -> int:
        expired = 0
        while True:
            async with unit_of_work(db) as session:
                batch = await expire_overdue_orders(
                    session, WORKER_ACTOR, now=datetime.now(UTC), limit=3
                )
            expired += batch
            if batch == 0:
                return expired

    counts = await asyncio.gather(*(worker() for _ in range(4)))
    assert sum(counts) == len(placed)
    async with db.sessions() as session:
        releases = await session.scalar(
            select(func.count()).select_from(Movement).where(Movement.kind == "release")
        )
        statuses = set(await session.scalars(select(Order.status)))
        assert await ledger_disagreements(session) == []
    assert releases == len(placed)
    assert statuses == {"expired"}
    assert await _reserved(committed_app, shop) == [Decimal(0), Decimal(0), Decimal(0)]


async def test_a_server_with_an_in_process_worker_expires_reservations_by_itself(
    server_url: URL, make_settings: Callable[..., Settings]
) -> None:
    # What `backoffice serve --with-worker` (the default in development) gives a newcomer.
    async with scratch_database_async(server_url, "w") as url:
        await asyncio.to_thread(upgrade_to_head, url)
        app = create_app(make_settings(url, in_process_worker=True))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            shop = await open_shop(app, client, stock=5)
            soon = _instant(timedelta(seconds=1))
            order_id = await _place(client, shop, "5", reserve_until=soon)
            status = "reserved"
            for _ in range(300):  # the worker looks every 10 seconds
                read = await client.get(f"{ORDERS}/{order_id}", headers=shop.headers)
                status = read.json()["status"]
                if status == "expired":
                    break
                await asyncio.sleep(0.1)
            assert status == "expired"
            assert await _reserved(app, shop) == [Decimal(0), Decimal(0), Decimal(0)]

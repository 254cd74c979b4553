"""Webhook delivery by one worker: deliveries per second, and the lag from commit to arrival
at a steady order load (issue 8, item 7).

Starts the app (one uvicorn worker) and one `backoffice worker` (its default concurrency) on
a scratch database (TEST_DATABASE_URL's or DATABASE_URL's server, else an embedded one), and a
receiver on loopback in this process that answers 204 to every POST.

  drain_1    one subscription, a backlog of --backlog stock events written in one
             transaction: deliveries/s from the first arrival to the last
  drain_4    four subscriptions, the same backlog each (their jobs run side by side)
  lag        one subscription to order and stock events while this process places --rate
             orders/s for --seconds through the API: arrival time minus the event's time
             (its transaction's start, so the figure includes the order's own transaction)

Targets: >= 500 deliveries/s; p99 lag <= 1 s.

Usage: .venv/bin/python bench/webhooks.py [--backlog 5000] [--rate 40] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import time
import uuid
from datetime import datetime

import asyncpg
import httpx
from harness import BIN, ROOT, Server, call, served_app, sign_in_admin
from inventory import stock_the_shop

from tests.webhooks.receiver import Receiver, receiving

EMAIL = "bench-admin@example.com"
PASSWORD = "bench password 1234"  # noqa: S105 (a throwaway scratch database)


def _subscribe(server: Server, token: str, client_id: str, url: str, types: list[str]) -> str:
    made = call(
        f"{server.base}/api/v1/webhooks/subscriptions",
        body={"client_id": client_id, "url": url, "event_types": types},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )
    return str(made["id"])


def _switch_off(server: Server, token: str, subscription_id: str) -> None:
    call(
        f"{server.base}/api/v1/webhooks/subscriptions/{subscription_id}",
        body={"is_active": False},
        method="PATCH",
        headers={"Authorization": f"Bearer {token}"},
    )


async def _write_backlog(database_url: str, events: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO events_outbox (type, subject_id, data) "
            "SELECT 'stock.changed', gen_random_uuid(), jsonb_build_object("
            "'sku', 'BENCH-' || n, 'warehouse_code', 'BENCH', 'on_hand', '10.000', "
            "'reserved', '1.000', 'available', '9.000') FROM generate_series(1, $1) n",
            events,
        )
    finally:
        await conn.close()


async def _until(check: object, seconds: float) -> None:
    ends = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        if time.monotonic() > ends:
            raise TimeoutError("the receiver did not get everything in time")
        await asyncio.sleep(0.02)


async def _drain(
    server: Server, receiver: Receiver, token: str, client_id: str, count: int, backlog: int
) -> tuple[float, list[str]]:
    """Deliveries/s for `count` subscriptions each sent the backlog, and their ids."""
    receiver.posts.clear()
    paths = [f"{receiver.url}/drain-{count}-{n}" for n in range(count)]
    subscriptions = [_subscribe(server, token, client_id, p, ["stock.changed"]) for p in paths]
    await _write_backlog(server.database_url, backlog)
    await _until(lambda: len(receiver.posts) >= count * backlog, 300)
    arrivals = [p.at for p in receiver.posts]
    rate = (len(arrivals) - 1) / (max(arrivals) - min(arrivals))
    return rate, subscriptions


async def _lag(
    server: Server,
    receiver: Receiver,
    shop_token: str,
    client_id: str,
    skus: list[str],
    rate: float,
    seconds: float,
) -> tuple[list[float], list[float]]:
    """Seconds from each event to its arrival, at `rate` orders/s for `seconds`, and from
    each event to the making of its delivery."""
    receiver.posts.clear()
    subscription_id = _subscribe(
        server,
        shop_token,
        client_id,
        f"{receiver.url}/lag",
        ["order.status_changed", "stock.changed"],
    )
    headers = {"Authorization": f"Bearer {shop_token}"}
    placed = 0
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as client:
        started = time.monotonic()
        pending: set[asyncio.Task[httpx.Response]] = set()
        while time.monotonic() - started < seconds:
            body = {
                "external_id": f"L-{uuid.uuid4().hex[:12]}",
                "customer_external_id": "K-1",
                "lines": [
                    {"sku": skus[(placed + i) % len(skus)], "quantity": "1",
                     "unit_price": "9.90", "vat_category": "standard"}
                    for i in range(3)
                ],
            }  # fmt: skip
            keyed = {"Idempotency-Key": uuid.uuid4().hex}
            pending.add(
                asyncio.create_task(client.post("/api/v1/orders", json=body, headers=keyed))
            )
            placed += 1
            await asyncio.sleep(max(0.0, started + placed / rate - time.monotonic()))
        answers = await asyncio.gather(*pending)
    failed = [a.status_code for a in answers if a.status_code != 201]
    if failed:
        raise RuntimeError(f"{len(failed)} orders refused: {failed[:5]}")
    # Each order writes one order event and one stock event per line.
    await _until(lambda: len(receiver.posts) >= placed * 4, 60)
    await asyncio.sleep(1)
    lags = [
        p.at - datetime.fromisoformat(json.loads(p.body)["occurred_at"]).timestamp()
        for p in receiver.posts
    ]
    return lags, await _fan_out_lags(server.database_url, subscription_id)


async def _fan_out_lags(database_url: str, subscription_id: str) -> list[float]:
    """Seconds from each event to its delivery's making (the fan-out's transaction start)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM d.created_at - e.occurred_at)::float8 AS lag "
            "FROM webhooks_delivery d JOIN events_outbox e ON e.position = d.event_position "
            "WHERE d.subscription_id = $1",
            uuid.UUID(subscription_id),
        )
        return [row["lag"] for row in rows]
    finally:
        await conn.close()


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def _measure(
    args: argparse.Namespace, server: Server, token: str, client_id: str, skus: list[str]
) -> None:
    async with receiving(Receiver()) as receiver:
        results = {}
        for count in (1, 4):
            rate, made = await _drain(server, receiver, token, client_id, count, args.backlog)
            results[f"drain_{count}"] = rate
            for subscription_id in made:
                _switch_off(server, token, subscription_id)
        lags, fanned = await _lag(server, receiver, token, client_id, skus, args.rate, args.seconds)
    print(f"one worker, backlog {args.backlog} events per subscription")
    for name, rate in results.items():
        print(f"{name:8} {rate:8.0f} deliveries/s")
    p50, p99 = _quantile(lags, 0.5), _quantile(lags, 0.99)
    print(
        f"lag      {len(lags)} deliveries at {args.rate:.0f} orders/s: p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
    )
    print(
        f"         of which until the fan-out made the delivery: p50 "
        f"{_quantile(fanned, 0.5) * 1000:.0f} ms, p99 {_quantile(fanned, 0.99) * 1000:.0f} ms"
    )
    best = max(results.values())
    print(f"target >= 500 deliveries/s: {'met' if best >= 500 else 'MISSED'} ({best:.0f})")
    print(f"target p99 lag <= 1 s: {'met' if p99 <= 1 else 'MISSED'} ({p99:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=5000, help="events per drain")
    parser.add_argument("--rate", type=float, default=40, help="orders/s during the lag run")
    parser.add_argument("--seconds", type=float, default=10, help="length of the lag run")
    args = parser.parse_args()
    os.environ["BACKOFFICE_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    with served_app() as server:
        _, admin = sign_in_admin(server, EMAIL, PASSWORD)
        skus, token = stock_the_shop(server, admin)
        me = call(f"{server.base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        worker = subprocess.Popen([str(BIN / "backoffice"), "worker"], env=server.env, cwd=ROOT)
        try:
            asyncio.run(_measure(args, server, token, str(me["id"]), skus))
        finally:
            worker.terminate()
            worker.wait(timeout=30)


if __name__ == "__main__":
    main()

"""The webshop's paths against the floor of our stack, in one run (issue 7, item 9).

Starts the app as `backoffice serve` would (one uvicorn worker per CPU, at most 4; `--workers`
to change it) on a scratch database (TEST_DATABASE_URL's or DATABASE_URL's
server, else an embedded one), stocks 100 items through the API, registers a webshop client
with a default warehouse and a customer, then loads with wrk (Debian package `wrk`):

  healthz        a minimal endpoint of the same app
  floor_stock    one SKU's stock with one raw asyncpg query, no authentication (floor_app.py)
  stock_1_sku    GET /api/v1/inventory/stock?sku=...   as the webshop client
  stock_100_skus GET /api/v1/inventory/stock?sku=... x100, one page
  order_create   POST /api/v1/orders, 3 random lines, a fresh Idempotency-Key and external id
                 per request (wrk Lua script), idempotency, outbox and audit on

and prints req/s, p50 and p99 with ratios to the floor. Afterwards it checks that nothing was
oversold and that the ledger sums to every balance.

Targets: stock_1_sku >= 0.60 x floor req/s with p99 <= 1.5 x floor p99 at 20 connections;
stock_100_skus >= 2,000 pages/s; order_create >= 1,000 orders/s with p99 <= 30 ms at 32.

Usage: .venv/bin/python bench/inventory.py [--seconds 5] [--rounds 3] [--workers N]
                                          [--only stock_100_skus,order_create]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import urllib.parse
from pathlib import Path

import asyncpg
from harness import Load, Server, Target, call, measure, report, served_app, sign_in_admin

from app.cli import default_workers

EMAIL = "bench-admin@example.com"
PASSWORD = "bench password 1234"  # noqa: S105 (a throwaway scratch database)
ITEMS = 100
STOCK_PER_ITEM = 10_000_000

ORDER_SCRIPT = """
math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
local run = math.random(1, 2000000000)
local counter = 0
local skus = {%(skus)s}
request = function()
  counter = counter + 1
  local id = string.format("B-%%d-%%d", run, counter)
  local lines = {}
  for i = 1, 3 do
    lines[i] = string.format(
      '{"sku":"%%s","quantity":"1","unit_price":"9.90","vat_category":"standard"}',
      skus[math.random(1, #skus)])
  end
  local body = string.format(
    '{"external_id":"%%s","customer_external_id":"K-1","lines":[%%s]}',
    id, table.concat(lines, ","))
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = id
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
"""


def stock_the_shop(server: Server, admin: str) -> tuple[list[str], str]:
    """100 stocked items, a webshop client with a default warehouse and a customer: the SKUs
    and the client's access token."""
    api = f"{server.base}/api/v1"
    auth = {"Authorization": f"Bearer {admin}"}
    warehouse = call(
        f"{api}/inventory/warehouses", body={"code": "BENCH", "name": "Bench"}, headers=auth
    )
    skus = []
    for n in range(ITEMS):
        sku = f"BENCH-{n:04d}"
        body = {
            "sku": sku,
            "name": f"Artikel {n}",
            "unit_code": "C62",
            "net_price": "9.90",
            "vat_category": "standard",
        }
        item = call(f"{api}/inventory/items", body=body, headers=auth)
        receipt = {
            "kind": "receipt",
            "item_id": item["id"],
            "warehouse_id": warehouse["id"],
            "quantity": str(STOCK_PER_ITEM),
        }
        call(f"{api}/inventory/movements", body=receipt, headers=auth)
        skus.append(sku)
    client = call(
        f"{api}/admin/clients", body={"name": "Bench shop", "role": "webshop"}, headers=auth
    )
    call(
        f"{api}/orders/channels/{client['id']}",
        body={"default_warehouse_id": warehouse["id"]},
        method="PUT",
        headers=auth,
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": str(client["id"]),
        "client_secret": str(client["client_secret"]),
    }
    token = str(call(f"{api}/auth/token", form=form)["access_token"])
    call(
        f"{api}/partners/by-external-id/K-1",
        body={
            "name": "Erika Mustermann",
            "shipping_address": {
                "street": "Heidestraße 17",
                "postal_code": "51147",
                "city": "Köln",
                "country": "DE",
            },
        },
        method="PUT",
        headers={"Authorization": f"Bearer {token}"},
    )
    return skus, token


async def _check_books(database_url: str) -> list[str]:
    """What is wrong with the stock after the run (nothing, one hopes)."""
    conn = await asyncpg.connect(database_url)
    try:
        problems = []
        oversold = await conn.fetchval(
            "SELECT count(*) FROM inventory_stock WHERE reserved > on_hand OR on_hand < 0"
        )
        if oversold:
            problems.append(f"{oversold} balances oversold")
        off = await conn.fetchval(
            """SELECT count(*) FROM inventory_stock s LEFT JOIN (
                 SELECT item_id, warehouse_id, sum(on_hand_delta) AS o, sum(reserved_delta) AS r
                   FROM inventory_movement_line GROUP BY item_id, warehouse_id) l
                 USING (item_id, warehouse_id)
               WHERE coalesce(l.o, 0) <> s.on_hand OR coalesce(l.r, 0) <> s.reserved"""
        )
        if off:
            problems.append(f"{off} balances differ from their ledger")
        unreserved = await conn.fetchval(
            """SELECT count(*) FROM inventory_stock s LEFT JOIN (
                 SELECT l.item_id, o.warehouse_id, sum(l.quantity - l.shipped) AS q
                   FROM orders_order_line l JOIN orders_order o ON o.id = l.order_id
                  WHERE o.status IN ('reserved', 'partially_shipped')
                  GROUP BY l.item_id, o.warehouse_id) w USING (item_id, warehouse_id)
               WHERE coalesce(w.q, 0) <> s.reserved"""
        )
        if unreserved:
            problems.append(f"{unreserved} balances' reservations differ from open orders")
        orders = await conn.fetchval("SELECT count(*) FROM orders_order")
        print(f"after the run: {orders} orders stored")
        return problems
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers(), help="uvicorn workers")
    parser.add_argument(
        "--only", help="comma-separated paths to measure (the floor always is), e.g. order_create"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp, served_app(args.workers) as server:
        _, admin = sign_in_admin(server, EMAIL, PASSWORD)
        skus, token = stock_the_shop(server, admin)
        script = Path(tmp) / "order.lua"
        script.write_text(ORDER_SCRIPT % {"skus": ", ".join(f'"{s}"' for s in skus)})
        stock = f"{server.base}/api/v1/inventory/stock"
        one = urllib.parse.urlencode({"sku": skus[7]})
        many = urllib.parse.urlencode([("sku", s) for s in skus] + [("limit", "100")])
        paths = {
            "healthz": Target(f"{server.base}/healthz"),
            "floor_stock": Target(f"{server.base}/bench/floor/stock/{skus[7]}"),
            "stock_1_sku": Target(f"{stock}?{one}", token),
            "stock_100_skus": Target(f"{stock}?{many}", token),
            "order_create": Target(f"{server.base}/", token, script, connections=32),
        }
        if args.only:
            wanted = {"floor_stock", *args.only.split(",")}
            paths = {name: target for name, target in paths.items() if name in wanted}
        results = measure(
            paths, seconds=args.seconds, rounds=args.rounds, connections=20, server=server
        )
        problems = asyncio.run(_check_books(server.database_url))
    report(
        results,
        "floor_stock",
        f"{args.workers} uvicorn worker(s); 20 connections (order_create: 32); "
        "medians of interleaved rounds",
    )
    _verdicts(results)
    if problems:
        sys.exit("BOOKS WRONG: " + "; ".join(problems))
    print("books: nothing oversold, ledger == balance, reservations == open order lines")


def _verdicts(results: dict[str, Load]) -> None:
    floor = results["floor_stock"]
    checks = {
        ("stock_1_sku", "stock_1_sku >= 0.60 x floor req/s"): lambda r: r.rps >= 0.6 * floor.rps,
        ("stock_1_sku", "stock_1_sku p99 <= 1.5 x floor p99"): lambda r: (
            r.p99_ms <= 1.5 * floor.p99_ms
        ),
        ("stock_100_skus", "stock_100_skus >= 2000 pages/s"): lambda r: r.rps >= 2000,
        ("order_create", "order_create >= 1000 orders/s"): lambda r: r.rps >= 1000,
        ("order_create", "order_create p99 <= 30 ms"): lambda r: r.p99_ms <= 30,
    }
    for (path, name), met in checks.items():
        if path in results:
            print(f"target {name}: {'met' if met(results[path]) else 'NOT met'}")


if __name__ == "__main__":
    main()

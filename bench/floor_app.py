"""The app as served, plus the floor of our stack: mounted by the benchmarks only.

Each floor route reads what a product route reads (a user with its roles, as
`GET /api/v1/admin/users/{id}`; one SKU's stock summed over warehouses, as
`GET /api/v1/inventory/stock?sku=`) in one statement with raw asyncpg from a pool of its own,
without authentication, and answers with the same response model, through the same
middleware. Whatever the product route costs beyond it is the price of our own code:
authentication, the revocation check, SQLAlchemy, the dependency chain.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
from fastapi import APIRouter, FastAPI

from app.config import Settings
from app.db.repositories.accounting import journal as journal_repo
from app.main import create_app
from app.schemas.identity import UserRead
from app.schemas.inventory import StockLevel, StockPage

FLOOR_QUERY = """
SELECT u.id, u.email, u.display_name, u.is_active, u.employee_id, u.version, u.created_at,
       u.updated_at,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM auth_user_role r
                  WHERE r.user_id = u.id), '{}') AS roles
  FROM auth_user u WHERE u.id = $1
"""

FLOOR_STOCK_QUERY = """
SELECT i.id AS item_id, i.sku, coalesce(sum(s.on_hand), 0) AS on_hand,
       coalesce(sum(s.reserved), 0) AS reserved, i.safety_stock,
       greatest(i.updated_at, max(s.updated_at)) AS updated_at
  FROM inventory_item i LEFT JOIN inventory_stock s ON s.item_id = i.id
 WHERE i.sku = $1
 GROUP BY i.id
"""


# bench/ledger.py serves the app once with this set, to measure what keeping the report
# balances in the posting transaction costs.
WITHOUT_BALANCES = "BENCH_POST_WITHOUT_BALANCES"


def create_bench_app() -> FastAPI:
    if os.environ.get(WITHOUT_BALANCES):
        journal_repo._POST = journal_repo.post_statement(keep_balances=False)
    settings = Settings()
    app = create_app(settings)
    dsn = settings.async_database_url.set(drivername="postgresql")
    pool: list[asyncpg.Pool] = []
    lock = asyncio.Lock()

    async def floor_pool() -> asyncpg.Pool:
        async with lock:
            if not pool:
                pool.append(
                    await asyncpg.create_pool(
                        dsn.render_as_string(hide_password=False), min_size=20, max_size=20
                    )
                )
        return pool[0]

    router = APIRouter()

    @router.get("/bench/floor/users/{user_id}", include_in_schema=False)
    async def bench_floor_user(user_id: uuid.UUID) -> UserRead:
        async with (await floor_pool()).acquire() as connection:
            row = await connection.fetchrow(FLOOR_QUERY, user_id)
        return UserRead.model_validate(dict(row))

    @router.get("/bench/floor/stock/{sku}", include_in_schema=False)
    async def bench_floor_stock(sku: str) -> StockPage:
        async with (await floor_pool()).acquire() as connection:
            rows = await connection.fetch(FLOOR_STOCK_QUERY, sku)
        levels = []
        for row in rows:
            on_hand, reserved = row["on_hand"], row["reserved"]
            levels.append(
                StockLevel(
                    item_id=row["item_id"],
                    sku=row["sku"],
                    warehouse_id=None,
                    warehouse_code=None,
                    on_hand=on_hand,
                    reserved=reserved,
                    available=on_hand - reserved,
                    available_for_sale=max(0, on_hand - reserved - row["safety_stock"]),
                    updated_at=row["updated_at"],
                )
            )
        return StockPage(items=levels, next_cursor=None)

    app.include_router(router)
    # Matched first: routes are tried in order, and the floor must not pay for walking the
    # product's routes (which would flatter every ratio against it).
    app.router.routes.insert(0, app.router.routes.pop())
    app.router._mark_routes_changed()  # FastAPI caches the matching order by this version
    return app

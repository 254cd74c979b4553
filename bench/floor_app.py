"""The app as served, plus the floor of our stack: mounted by bench/request_overhead.py only.

The floor route reads the same row the product's `GET /api/v1/admin/users/{id}` reads (a user
with its roles, one statement) with raw asyncpg from a pool of its own, without authentication,
and answers with the same response model, through the same middleware. Whatever the product
route costs beyond it is the price of our own code: authentication, the revocation check,
SQLAlchemy, the dependency chain.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from fastapi import APIRouter, FastAPI

from app.config import Settings
from app.main import create_app
from app.schemas.identity import UserRead

FLOOR_QUERY = """
SELECT u.id, u.email, u.display_name, u.is_active, u.employee_id, u.version, u.created_at,
       u.updated_at,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM auth_user_role r
                  WHERE r.user_id = u.id), '{}') AS roles
  FROM auth_user u WHERE u.id = $1
"""


def create_bench_app() -> FastAPI:
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

    app.include_router(router)
    return app

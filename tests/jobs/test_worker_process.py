"""`backoffice worker` as operators run it: it refuses an unmigrated database, and a job cut
off by kill -9 is done by the next worker, exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from app.config import Settings
from app.db.migrations import upgrade_to_head
from app.main import create_app
from tests.conftest import TEST_JWT_SECRET
from tests.databases import scratch_database_async
from tests.factories.orders import ORDERS, open_shop
from tests.platform.test_cli import BACKOFFICE, child_env, log_tail

HEARTBEAT_SECONDS = 0.5  # a silent worker is taken for dead after three of these


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def working(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`backoffice worker`, killed if still running when the block ends."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(BACKOFFICE), "worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting until {what}")


async def test_the_worker_refuses_a_database_without_the_schema(
    server_url: URL, tmp_path: Path
) -> None:
    async with scratch_database_async(server_url, "bare") as url:
        env = child_env(DATABASE_URL=_libpq(url), BACKOFFICE_JWT_SECRET=TEST_JWT_SECRET)
        done = await asyncio.to_thread(
            subprocess.run,
            [str(BACKOFFICE), "worker"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "backoffice migrate" in done.stderr


@pytest.mark.slow
async def test_a_job_cut_off_by_kill_9_is_done_by_the_next_worker_exactly_once(
    server_url: URL, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    async with scratch_database_async(server_url, "kill") as url:
        await asyncio.to_thread(upgrade_to_head, url)
        app = create_app(make_settings(url))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            shop = await open_shop(app, client, stock=5)
            past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            body = shop.order_body("2", reserve_until=past)
            placed = await client.post(ORDERS, json=body, headers=shop.keyed())
            assert placed.status_code == 201, placed.text
        await app.state.db.dispose()
        order_id = uuid.UUID(placed.json()["id"])
        db = await asyncpg.connect(_libpq(url))
        try:

            async def status() -> str:
                query = "SELECT status FROM orders_order WHERE id = $1"
                return str(await db.fetchval(query, order_id))

            # The expiry will wait for this lock on the item's stock: a job caught mid-way.
            holder = await asyncpg.connect(_libpq(url))
            hold = holder.transaction()
            await hold.start()
            await holder.execute(
                "SELECT 1 FROM inventory_stock WHERE item_id = $1 FOR UPDATE", shop.items[0].id
            )
            env = child_env(
                DATABASE_URL=_libpq(url),
                BACKOFFICE_JWT_SECRET=TEST_JWT_SECRET,
                BACKOFFICE_WORKER_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
            )
            first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
            with working(env, first_log) as first:

                async def blocked() -> bool:
                    waiting = await db.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    )
                    return bool(waiting) or first.poll() is not None

                await _until(blocked, "the expiry job waits for the stock lock")
                assert first.poll() is None, log_tail(first_log)
                first.send_signal(signal.SIGKILL)
                first.wait()
            await hold.rollback()
            await holder.close()
            assert await status() == "reserved"  # the killed job committed nothing
            await asyncio.sleep(4 * HEARTBEAT_SECONDS)  # the first worker is now presumed dead

            with working(env, second_log) as second:

                async def expired() -> bool:
                    return await status() == "expired"

                async def none_left_running() -> bool:
                    query = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
                    return await db.fetchval(query) == 0

                await _until(expired, "the next worker expired the order")
                # The killed worker's job does not hang: it is run again or, when the next
                # run of its periodic task is queued already, closed as failed.
                await _until(none_left_running, "the killed worker's job is dealt with")
                second.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(second.wait, 30) == 0, log_tail(second_log)

            releases = await db.fetchval(
                "SELECT count(*) FROM inventory_movement WHERE order_id = $1 AND kind = 'release'",
                order_id,
            )
            assert releases == 1
            reserved = await db.fetchval(
                "SELECT reserved FROM inventory_stock WHERE item_id = $1", shop.items[0].id
            )
            assert reserved == 0
        finally:
            await db.close()

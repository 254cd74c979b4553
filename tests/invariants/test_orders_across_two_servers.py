"""The API scaled out: two server processes on one database sell exactly what is in stock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from app.config import Settings
from app.db.migrations import upgrade_to_head
from app.main import create_app
from tests.conftest import TEST_JWT_SECRET
from tests.databases import scratch_database_async
from tests.factories.inventory import balance_of, ledger_disagreements
from tests.factories.orders import ORDERS, open_shop
from tests.platform.test_cli import child_env, free_port, serving, stop, wait_for_health


@pytest.mark.slow
async def test_two_hundred_orders_across_two_servers_sell_exactly_ten(
    server_url: URL, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    async with scratch_database_async(server_url, "scale") as url:
        await asyncio.to_thread(upgrade_to_head, url)
        app = create_app(make_settings(url))  # arranges the shop; its tokens fit both servers
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as local:
            shop = await open_shop(app, local, stock=10)
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = child_env(
            DATABASE_URL=database_url,
            BACKOFFICE_JWT_SECRET=TEST_JWT_SECRET,
            BACKOFFICE_DB_POOL_TIMEOUT_SECONDS="120",  # waiting is fine here; 503s are not
        )
        bases = []
        with ExitStack() as servers:
            procs = []
            for n in range(2):
                port, log = free_port(), tmp_path / f"serve-{n}.log"
                proc = servers.enter_context(
                    serving(["--port", str(port), "--workers", "1"], env, log)
                )
                procs.append((proc, log))
                bases.append(f"http://127.0.0.1:{port}")
            for (proc, log), base in zip(procs, bases, strict=True):
                wait_for_health(proc, base, log)
            limits = httpx.Limits(max_connections=100)
            async with httpx.AsyncClient(limits=limits, timeout=60) as remote:
                responses = await asyncio.gather(
                    *(
                        remote.post(
                            bases[i % 2] + ORDERS, json=shop.order_body("1"), headers=shop.keyed()
                        )
                        for i in range(200)
                    )
                )
            for proc, log in procs:
                assert stop(proc, log) == 0
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * 10 + [409] * 190, {s: statuses.count(s) for s in set(statuses)}
        async with app.state.db.sessions() as session:
            assert await balance_of(session, shop.items[0].id, shop.warehouse.id) == Decimal(10)
            assert await ledger_disagreements(session) == []
        await app.state.db.dispose()

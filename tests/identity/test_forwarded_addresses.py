"""The login throttle counts the real source: X-Forwarded-For only counts from named proxies.

Without BACKOFFICE_FORWARDED_ALLOW_IPS, one source could otherwise spray passwords by claiming
a new address per attempt, or get someone else's address throttled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL

from app.config import Settings
from app.main import create_app
from tests.databases import scratch_database
from tests.platform.test_cli import child_env, free_port, serving, stop, wait_for_health

TOKEN = "/api/v1/auth/token"
ATTEMPTS = 30


def _spray_form(i: int) -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": f"spray-{i}-{uuid.uuid4().hex[:6]}@example.com",
        "password": "guessed password",
    }


def _forwarded(i: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{i + 1}"}


def _source_limit(settings: Settings) -> int:
    return settings.login_max_failures * 4


async def _spray(client: httpx.AsyncClient) -> list[int]:
    return [
        (await client.post(TOKEN, data=_spray_form(i), headers=_forwarded(i))).status_code
        for i in range(ATTEMPTS)
    ]


async def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    statuses = await _spray(client)
    limit = _source_limit(settings)
    assert statuses == [400] * limit + [429] * (ATTEMPTS - limit)


async def test_a_named_proxy_is_believed(
    make_settings: Callable[..., Settings], database_url: URL, app: FastAPI
) -> None:
    """Behind a proxy the operator named, each forwarded address is its own source."""
    trusting = create_app(
        make_settings(database_url, forwarded_allow_ips="127.0.0.0/8"), app.state.db
    )
    transport = httpx.ASGITransport(app=trusting, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert await _spray(client) == [400] * ATTEMPTS


def test_a_bad_proxy_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(forwarded_allow_ips="127.0.0.1,proxy.example")


@pytest.mark.slow
def test_the_real_server_does_not_believe_forwarded_addresses(
    server_url: URL, tmp_path: Path
) -> None:
    """uvicorn on its own believes X-Forwarded-For from loopback; `backoffice serve` must not."""
    with scratch_database(server_url, "fwd") as url:
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = child_env(DATABASE_URL=database_url, BACKOFFICE_JWT_SECRET="s" * 40)
        port, log = free_port(), tmp_path / "serve.log"
        base = f"http://127.0.0.1:{port}"
        with serving(["--port", str(port), "--workers", "1"], env, log) as proc:
            wait_for_health(proc, base, log)
            statuses = [
                httpx.post(f"{base}{TOKEN}", data=_spray_form(i), headers=_forwarded(i)).status_code
                for i in range(ATTEMPTS)
            ]
            assert stop(proc, log) == 0
    limit = _source_limit(Settings())
    assert statuses == [400] * limit + [429] * (ATTEMPTS - limit)

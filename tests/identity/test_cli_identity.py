"""`backoffice create-user` and `backoffice demo-data`, run as the installed command."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy.engine import URL

from app.devdata.identity import DEMO_CLIENTS, DEMO_PEOPLE
from app.devdata.partners import DEMO_PARTNERS
from tests.databases import scratch_database
from tests.platform.test_cli import BACKOFFICE, COMMAND_TIMEOUT, child_env

PASSWORD = "a long enough password"


@pytest.fixture
def url(server_url: URL) -> Iterator[URL]:
    with scratch_database(server_url, "cli") as url:
        yield url


def _run(url: URL, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = child_env(DATABASE_URL=url.set(drivername="postgresql").render_as_string(False))
    return subprocess.run(
        [str(BACKOFFICE), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _query(url: URL, sql: str) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def test_create_user_reads_the_password_from_stdin_and_stores_only_a_hash(url: URL) -> None:
    result = _run(
        url,
        "create-user",
        "--email",
        "Chefin@Example.com",
        "--role",
        "admin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    rows = _query(
        url,
        "SELECT u.email, u.password_hash, r.role FROM auth_user u "
        "JOIN auth_user_role r ON r.user_id = u.id",
    )
    assert [(r["email"], r["role"]) for r in rows] == [("chefin@example.com", "admin")]
    assert rows[0]["password_hash"].startswith("$argon2")
    assert PASSWORD not in rows[0]["password_hash"]
    events = _query(url, "SELECT actor, action FROM audit_event")
    assert [(e["actor"], e["action"]) for e in events] == [("system:cli", "user.create")]


def test_create_user_refuses_bad_input_with_one_line(url: URL) -> None:
    short = _run(url, "create-user", "--email", "a@example.com", "--role", "admin", stdin="short\n")
    unknown_role = _run(
        url, "create-user", "--email", "b@example.com", "--role", "webshop", stdin=PASSWORD + "\n"
    )
    for result in (short, unknown_role):
        assert result.returncode == 1
        using, error = result.stderr.splitlines()  # which database, then the one-line refusal
        assert using.startswith("Using the PostgreSQL at ")
        assert error.startswith("backoffice: ")
    assert _query(url, "SELECT id FROM auth_user") == []


def test_demo_data_is_idempotent(url: URL) -> None:
    first = _run(url, "demo-data")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("client_secret=") == len(DEMO_CLIENTS)
    counts_sql = (
        "SELECT (SELECT count(*) FROM auth_user) AS users, "
        "(SELECT count(*) FROM auth_client) AS clients, "
        "(SELECT count(*) FROM partners_partner) AS partners, "
        "(SELECT count(*) FROM inventory_item) AS items, "
        "(SELECT count(*) FROM inventory_movement) AS movements, "
        "(SELECT count(*) FROM audit_event) AS events"
    )
    after_first = dict(_query(url, counts_sql)[0])
    second = _run(url, "demo-data")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert dict(_query(url, counts_sql)[0]) == after_first
    assert after_first["users"] == len(DEMO_PEOPLE)
    assert after_first["clients"] == len(DEMO_CLIENTS)
    assert after_first["partners"] == len(DEMO_PARTNERS)
    assert first.stdout.count("partner ") == len(DEMO_PARTNERS)
    assert after_first["items"] > 0
    assert after_first["movements"] >= after_first["items"] - 1  # opening stock, one may be 0
    # The demo webshop ships from the main warehouse without naming it.
    channel = _query(url, "SELECT count(*) AS n FROM orders_channel")
    assert channel[0]["n"] == 1


def test_demo_data_is_refused_in_production(url: URL) -> None:
    env_args = ("demo-data",)
    env = child_env(
        DATABASE_URL=url.set(drivername="postgresql").render_as_string(False),
        BACKOFFICE_ENVIRONMENT="production",
        BACKOFFICE_JWT_SECRET="p" * 40,
    )
    result = subprocess.run(
        [str(BACKOFFICE), *env_args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "refused in production" in result.stderr

"""Bursts against the token endpoint: throttles and refresh rotation hold (real commits)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from app.db.session import unit_of_work
from tests.factories.identity import assert_invalid_grant, make_user, refresh, sign_in

TOKEN = "/api/v1/auth/token"


async def test_a_burst_of_guesses_gets_no_more_tries_than_the_limit(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    """Concurrent wrong passwords for one account: at most `login_max_failures` are checked,
    the rest are throttled, however they interleave."""
    async with unit_of_work(committed_app.state.db) as session:
        user = await make_user(session, email="burst@example.com")
    limit = committed_app.state.settings.login_max_failures
    responses = await asyncio.gather(
        *(
            committed_client.post(
                TOKEN,
                data={"grant_type": "password", "username": user.email, "password": "wrong" * 3},
            )
            for _ in range(limit * 3)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(400) == limit
    assert statuses.count(429) == limit * 2


async def test_a_burst_spread_over_many_accounts_meets_the_source_limit(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    """Password spraying: one guess each for many accounts, all at once, from one address."""
    settings = committed_app.state.settings.model_copy(update={"login_max_failures": 2})
    committed_app.state.settings = settings
    source_limit = settings.login_max_failures * 4
    responses = await asyncio.gather(
        *(
            committed_client.post(
                TOKEN,
                data={
                    "grant_type": "password",
                    "username": f"spray{i}@example.com",
                    "password": "wrong" * 3,
                },
            )
            for i in range(source_limit + 10)
        )
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(400) == source_limit
    assert statuses.count(429) == 10


async def test_concurrent_refreshes_issue_one_token_and_keep_the_session(
    committed_app: FastAPI, committed_client: httpx.AsyncClient
) -> None:
    async with unit_of_work(committed_app.state.db) as arrange:
        user = await make_user(arrange, email="tabs@example.com")
    first = await sign_in(committed_client, user.email)
    responses = await asyncio.gather(
        *(refresh(committed_client, first["refresh_token"]) for _ in range(5))
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1
    for loser in responses:
        if loser.status_code != 200:
            assert_invalid_grant(loser)
    follow_up = await refresh(committed_client, winners[0].json()["refresh_token"])
    assert follow_up.status_code == 200

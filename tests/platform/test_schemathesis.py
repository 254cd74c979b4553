"""Property-based tests of the committed contract (openapi/openapi.json) against the app.

Schemathesis generates valid and invalid requests for every operation and runs all of its
default checks on each response: no 5xx, only documented statuses, content types and headers,
responses matching their schemas, invalid data rejected, valid data accepted.

The app commits into its own scratch database: schemathesis drives the ASGI app from its own
thread and event loop, so the engine uses NullPool and no connection crosses event loops.
(`schemathesis.pytest.from_fixture` would be the natural way to bind a fixture's app, but it
fails under pytest 9 (`Function._nodeid`), so the schema is loaded eagerly and the app is passed
to each call.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.db.engine import Database, make_sessionmaker
from app.db.migrations import upgrade_to_head
from app.db.session import unit_of_work
from app.domain.identity.principal import Principal
from app.http.openapi import CONTRACT_PATH
from app.main import create_app
from tests.databases import scratch_database
from tests.factories.identity import bearer, make_principal
from tests.platform.schemathesis_cases import complete_positive_case

# Per operation and role. Most of the file's time is the coverage phase sending each of the
# 249 ISO 3166-1 country codes in each address of the partner bodies.
MAX_EXAMPLES = 25


@dataclass(frozen=True, slots=True)
class Target:
    app: FastAPI
    headers_by_role: dict[str, dict[str, str]]


async def _seed_principals(database: Database, roles: list[str]) -> dict[str, Principal]:
    """Real holders behind the tokens (a token naming nobody is refused)."""
    async with unit_of_work(database) as session:
        return {role: await make_principal(session, role) for role in roles}


@pytest.fixture(scope="module")
def target(server_url: URL, make_settings: Callable[..., Settings]) -> Iterator[Target]:
    with scratch_database(server_url, "st") as url:
        upgrade_to_head(url)
        engine = create_async_engine(url, poolclass=NullPool)
        database = Database(engine, make_sessionmaker(engine))
        app = create_app(make_settings(url), database)
        roles = ["admin", "receptionist"]
        principals = asyncio.run(_seed_principals(database, roles))
        headers = {role: bearer(app, principals[role]) for role in roles}
        yield Target(app, headers)


# The committed contract, not the app's live schema: clients are built against this file.
schema = schemathesis.openapi.from_path(CONTRACT_PATH)


# Requests hit PostgreSQL, and `format`/`pattern` strings are drawn by filtering: both may trip
# Hypothesis's speed heuristics, which say nothing about the API.
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@SETTINGS
def test_contract_as_admin(case: schemathesis.Case, target: Target) -> None:
    complete_positive_case(case)
    case.call_and_validate(headers=target.headers_by_role["admin"], app=target.app)


@schema.parametrize()
@SETTINGS
def test_contract_as_receptionist(case: schemathesis.Case, target: Target) -> None:
    """A front-office caller: every admin and audit operation must answer a documented 403."""
    complete_positive_case(case)
    case.call_and_validate(headers=target.headers_by_role["receptionist"], app=target.app)

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
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.db.engine import Database, make_sessionmaker
from app.db.keyset import encode_cursor
from app.db.migrations import upgrade_to_head
from app.db.session import unit_of_work
from app.domain.identity.principal import Principal
from app.http.conditional import IF_MATCH_PATTERN
from app.http.idempotency import IDEMPOTENCY_HEADER
from app.http.openapi import CONTRACT_PATH
from app.main import create_app
from tests.databases import scratch_database
from tests.factories.identity import bearer, make_principal

# Per operation and role. The file runs in about 95 s, most of it the coverage phase sending
# each of the 249 ISO 3166-1 country codes in each address of the partner bodies.
MAX_EXAMPLES = 25
VALID_VAT_ID = "DE136695976"
ROLE_FLAGS = ("is_customer", "is_supplier")


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


def _complete_positive_case(case: schemathesis.Case) -> None:
    """Give a valid request what the schema cannot describe (positive cases only).

    * `cursor`: any short string is schema-valid, but only a cursor the server handed out is
      usable; a made-up one is rightly refused with 422.
    * `Idempotency-Key`: any visible-ASCII key is schema-valid, but reusing one for another body
      is rightly refused with 422; a fresh key per request is what clients are told to send.
    * `If-Match`: schemathesis 4.32's coverage phase cannot build a header value for the
      documented pattern (seen with any pattern containing `*` or `"`). It then puts "0" into its
      *positive* default case while marking the header component negative, and
      `positive_data_acceptance` would flag the correct 400. The header is optional; leaving it
      out keeps the case what it claims to be. Fuzzed cases do send conforming values.
    * `vat_id`: a VAT id has check digits the schema cannot describe; a random one that fits
      the documented pattern is rightly refused with 422.
    * `is_customer`/`is_supplier`: a partner needs one of them. The create body's schema says
      so, but whether a partial update leaves a role depends on the stored partner; a body
      that sets the role flags it sends to false is given a role.

    Without these, `positive_data_acceptance` would report the API's correct answers. Negative
    cases are untouched, so malformed cursors, keys and If-Match values are still sent and must
    be rejected.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.query and "cursor" in case.query:
        case.query["cursor"] = encode_cursor((datetime.now(UTC), uuid.uuid4()))
    if case.headers and IDEMPOTENCY_HEADER in case.headers:
        case.headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex
    if case.headers and not re.fullmatch(IF_MATCH_PATTERN, case.headers.get("If-Match", "*")):
        del case.headers["If-Match"]
    if isinstance(case.body, dict) and isinstance(case.body.get("vat_id"), str):
        case.body["vat_id"] = VALID_VAT_ID
    roles = [case.body.get(r) for r in ROLE_FLAGS] if isinstance(case.body, dict) else []
    if isinstance(case.body, dict) and any(r is False for r in roles) and True not in roles:
        case.body["is_customer"] = True


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
    _complete_positive_case(case)
    case.call_and_validate(headers=target.headers_by_role["admin"], app=target.app)


@schema.parametrize()
@SETTINGS
def test_contract_as_receptionist(case: schemathesis.Case, target: Target) -> None:
    """A front-office caller: every admin and audit operation must answer a documented 403."""
    _complete_positive_case(case)
    case.call_and_validate(headers=target.headers_by_role["receptionist"], app=target.app)

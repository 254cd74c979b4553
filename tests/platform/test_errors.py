"""Every error reaches the client as an RFC 9457 problem document, and leaks nothing."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.config import Settings
from app.db.engine import Database
from app.db.models.api import IdempotencyRecord
from app.http.routing import DatabaseRoute
from app.logging_setup import JsonFormatter
from app.main import create_app

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem document of `status` that names its request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"]
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


# --- a test-only router that runs on the real route class -----------------------------------


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1)


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str
    items: list[Line] = Field(min_length=1)
    tags: list[str] = []


router = APIRouter(route_class=DatabaseRoute)


@router.post("/orders", status_code=201)
async def create_order(
    order: Order, priority: Annotated[int, Query(ge=0, le=9)] = 0
) -> dict[str, int]:
    return {"lines": len(order.items), "priority": priority}


@router.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


@router.get("/people/{email}")
async def person(email: str) -> dict[str, bool]:
    return {"found": False}


def _record(caller: str, key: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "caller": caller,
        "key": key,
        "request_fingerprint": "0" * 64,
        "status_code": 201,
        "response_body": b"{}",
        "response_headers": {},
        "created_at": now,
        "expires_at": now + timedelta(hours=1),
    }


@router.post("/records/{caller}")
async def store_record(request: Request, caller: str, fail: bool = False) -> dict[str, str]:
    session: AsyncSession = request.state.session
    await session.execute(insert(IdempotencyRecord).values(**_record(caller, "k1")))
    if fail:
        raise RuntimeError("secret internal detail")
    return {"stored": caller}


@router.post("/records/{caller}/twice")
async def store_record_twice(request: Request, caller: str) -> dict[str, str]:
    session: AsyncSession = request.state.session
    await session.execute(insert(IdempotencyRecord).values(**_record(caller, "same")))
    await session.execute(insert(IdempotencyRecord).values(**_record(caller, "same")))
    return {"stored": caller}


@router.post("/deferred-duplicate")
async def deferred_duplicate(request: Request) -> dict[str, int]:
    """Both statements succeed; only the COMMIT finds the duplicate (deferred constraint)."""
    session: AsyncSession = request.state.session
    await session.execute(
        text(
            "CREATE TEMP TABLE deferred_probe (k int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
            " ON COMMIT DROP"
        )
    )
    await session.execute(text("INSERT INTO deferred_probe VALUES (1)"))
    await session.execute(text("INSERT INTO deferred_probe VALUES (1)"))
    return {"inserted": 2}


@pytest.fixture
async def test_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    app.include_router(router, prefix="/test-only")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def committing_client(
    make_settings: Callable[..., Settings], database_url: URL
) -> AsyncIterator[httpx.AsyncClient]:
    """An app on its own engine: each request really commits (or rolls back)."""
    app = create_app(make_settings(database_url))
    app.include_router(router, prefix="/test-only")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.db.dispose()


async def _count_records(conn: AsyncConnection, caller: str) -> int:
    stmt = (
        select(func.count())
        .select_from(IdempotencyRecord)
        .where(IdempotencyRecord.caller == caller)
    )
    return (await conn.execute(stmt)).scalar_one()


# --- routing errors ---------------------------------------------------------------------------


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing", headers={"X-Request-ID": "req-404"})
    body = assert_problem(response, 404)
    assert body["request_id"] == "req-404"
    assert body["instance"] == "/no/such/thing"
    assert body["detail"]


async def test_wrong_method_is_a_405_problem_that_keeps_allow(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    body = assert_problem(response, 405)
    assert body["instance"] == "/healthz"
    assert "GET" in response.headers["Allow"]


# --- validation -------------------------------------------------------------------------------


async def test_body_errors_point_into_the_body_without_echoing_values(
    test_client: httpx.AsyncClient,
) -> None:
    order = {
        "customer": "ACME",
        "items": [
            {"sku": "A-1", "quantity": 2},
            {"sku": "B-2", "quantity": "SECRET-QTY-4711"},
            {"sku": "SECRET-SKU-LONGER-THAN-TWENTY", "quantity": 0},
        ],
        "tags": ["ok", {"SECRET-KEY": "SECRET-TAG"}],
        "a/b~c": "SECRET-EXTRA",
    }
    response = await test_client.post("/test-only/orders", json=order)
    body = assert_problem(response, 422)
    assert body["instance"] == "/test-only/orders"
    assert "SECRET" not in response.text
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {
        "/items/1/quantity",
        "/items/2/sku",
        "/items/2/quantity",
        "/tags/1",
        "/a~1b~0c",  # RFC 6901 escaping of an unknown member's name
    }
    for error in body["errors"]:
        assert set(error) == {"detail", "pointer"}
        assert error["detail"]


async def test_missing_members_and_empty_lists_are_reported(
    test_client: httpx.AsyncClient,
) -> None:
    response = await test_client.post("/test-only/orders", json={"items": []})
    body = assert_problem(response, 422)
    assert {e["pointer"] for e in body["errors"]} == {"/customer", "/items"}


async def test_query_errors_name_the_parameter(test_client: httpx.AsyncClient) -> None:
    valid = {"customer": "ACME", "items": [{"sku": "A-1", "quantity": 1}]}
    response = await test_client.post(
        "/test-only/orders", params={"priority": "SECRET-PRIO"}, json=valid
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [{"detail": body["errors"][0]["detail"], "parameter": "priority"}]
    assert "SECRET" not in response.text

    accepted = await test_client.post("/test-only/orders", params={"priority": 3}, json=valid)
    assert accepted.status_code == 201
    assert accepted.json() == {"lines": 1, "priority": 3}


async def test_invalid_json_is_a_422_problem(test_client: httpx.AsyncClient) -> None:
    response = await test_client.post(
        "/test-only/orders",
        content=b'{"customer": "SECRET-JSON", "items": [',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [{"detail": "the body is not valid JSON", "pointer": ""}]
    assert "SECRET" not in response.text


# --- body size --------------------------------------------------------------------------------


@pytest.fixture
async def small_body_client(
    make_settings: Callable[..., Settings], database_url: URL, connection: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        make_settings(database_url, max_body_bytes=2048), Database.bound_to(connection)
    )
    app.include_router(router, prefix="/test-only")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_body_within_the_limit_is_accepted(small_body_client: httpx.AsyncClient) -> None:
    response = await small_body_client.post("/test-only/upload", content=b"x" * 2048)
    assert response.status_code == 200
    assert response.json() == {"received": 2048}


async def test_body_over_the_limit_with_content_length_is_refused(
    small_body_client: httpx.AsyncClient,
) -> None:
    response = await small_body_client.post("/test-only/upload", content=b"x" * 2049)
    assert response.request.headers["Content-Length"] == "2049"
    assert response.status_code == 413


async def test_body_over_the_limit_with_content_length_is_a_413_problem(
    small_body_client: httpx.AsyncClient,
) -> None:
    response = await small_body_client.post("/test-only/upload", content=b"x" * 2049)
    body = assert_problem(response, 413)
    assert body["instance"] == "/test-only/upload"


async def test_streamed_body_over_the_limit_is_a_413_problem(
    small_body_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 1000

    response = await small_body_client.post("/test-only/upload", content=chunks())
    assert "Content-Length" not in response.request.headers
    assert_problem(response, 413)


async def test_default_limit_is_one_mebibyte(test_client: httpx.AsyncClient) -> None:
    accepted = await test_client.post("/test-only/upload", content=b"z" * (1024 * 1024))
    assert accepted.status_code == 200
    refused = await test_client.post("/test-only/upload", content=b"z" * (1024 * 1024 + 1))
    assert refused.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"z" * (256 * 1024)

    streamed = await test_client.post("/test-only/upload", content=chunks())
    assert_problem(streamed, 413)


# --- unexpected errors and transactions -------------------------------------------------------


async def test_unexpected_error_is_a_500_problem_without_internals(
    test_client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    caller = f"test-{uuid.uuid4().hex}"
    response = await test_client.post(f"/test-only/records/{caller}", params={"fail": "true"})
    body = assert_problem(response, 500)
    assert body["detail"]
    for leak in ("secret internal detail", "RuntimeError", "Traceback", ".py"):
        assert leak not in response.text
    # The request's savepoint was rolled back: the insert before the error is gone.
    assert await _count_records(connection, caller) == 0

    stored = await test_client.post(f"/test-only/records/{caller}")
    assert stored.status_code == 200
    assert await _count_records(connection, caller) == 1


async def test_unexpected_error_rolls_back_a_committing_request(
    committing_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    failed_caller, stored_caller = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"
    try:
        failed = await committing_client.post(
            f"/test-only/records/{failed_caller}", params={"fail": "true"}
        )
        assert_problem(failed, 500)
        stored = await committing_client.post(f"/test-only/records/{stored_caller}")
        assert stored.status_code == 200
        async with engine.connect() as conn:  # a different connection sees only commits
            assert await _count_records(conn, failed_caller) == 0
            assert await _count_records(conn, stored_caller) == 1
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.caller.in_([failed_caller, stored_caller])
                )
            )


async def test_duplicate_key_is_a_409_problem(
    test_client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    caller = f"test-{uuid.uuid4().hex}"
    response = await test_client.post(f"/test-only/records/{caller}/twice")
    assert_problem(response, 409)
    assert "api_idempotency_key" not in response.text  # no constraint or table names
    assert await _count_records(connection, caller) == 0


async def test_failing_commit_is_an_error_response_not_200(
    committing_client: httpx.AsyncClient,
) -> None:
    response = await committing_client.post("/test-only/deferred-duplicate")
    body = assert_problem(response, 409)
    assert "deferred_probe" not in response.text
    assert body["instance"] == "/test-only/deferred-duplicate"


# --- access log -------------------------------------------------------------------------------


async def test_access_log_has_no_personal_data(
    test_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    email = "alice.smith@example.com"
    caplog.set_level(logging.INFO, logger="backoffice.access")
    await test_client.get("/healthz", params={"email": email})
    await test_client.get(f"/test-only/people/{email}", params={"q": email})
    await test_client.get(f"/nowhere/{email}")

    records = [r for r in caplog.records if r.name == "backoffice.access"]
    assert len(records) == 3
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    assert [(line["method"], line["status"]) for line in lines] == [
        ("GET", 200),
        ("GET", 200),
        ("GET", 404),
    ]
    assert lines[0]["route"] == "/healthz"
    assert lines[1]["route"].endswith("/people/{email}")  # the template, not the path
    assert lines[2]["route"] == "<unmatched>"
    for record, line in zip(records, lines, strict=True):
        assert isinstance(line["duration_ms"], float | int)
        assert line["duration_ms"] >= 0
        formatted = JsonFormatter().format(record)
        assert email not in formatted
        assert "alice" not in formatted
        assert "example.com" not in formatted


async def test_access_log_names_the_full_route_template(
    test_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="backoffice.access")
    await test_client.get("/test-only/people/someone")
    [record] = [r for r in caplog.records if r.name == "backoffice.access"]
    assert json.loads(JsonFormatter().format(record))["route"] == "/test-only/people/{email}"

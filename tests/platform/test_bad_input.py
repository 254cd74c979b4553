"""Bad input found by review: each used to be a 500; it must be a 4xx problem."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories.identity import auth_headers

EDGE_INSTANTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
@pytest.mark.parametrize(
    ("path", "parameter"),
    [("/api/v1/admin/users", "updated_since"), ("/api/v1/audit/events", "occurred_before")],
)
async def test_instants_outside_what_utc_can_hold_are_422(
    app: FastAPI, client: httpx.AsyncClient, path: str, parameter: str, instant: str
) -> None:
    response = await client.get(
        path, params={parameter: instant}, headers=await auth_headers(app, "admin")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == parameter


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
async def test_a_cursor_holding_such_an_instant_is_422(
    app: FastAPI, client: httpx.AsyncClient, instant: str
) -> None:
    raw = json.dumps([instant, str(uuid.uuid4())]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = await client.get(
        "/api/v1/admin/users", params={"cursor": cursor}, headers=await auth_headers(app, "admin")
    )
    assert response.status_code == 422, response.text


async def test_a_content_length_of_unicode_digits_is_not_a_500(app: FastAPI) -> None:
    """'²'.isdigit() is true but int('²') fails; a lax proxy could pass such a header on."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/auth/logout",
        "raw_path": b"/api/v1/auth/logout",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "headers": [
            (b"content-length", "²".encode("latin-1")),
            (b"content-type", b"application/json"),
        ],
    }
    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    assert 400 <= start["status"] < 500

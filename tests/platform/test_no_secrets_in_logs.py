"""Passwords, secrets and tokens never reach the logs (DSGVO, and plain hygiene)."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from app.logging_setup import JsonFormatter
from tests.factories.identity import auth_headers

PASSWORD = "very secret password 4711"


async def test_sign_in_and_user_admin_log_no_credentials(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await client.post(
        "/api/v1/admin/users",
        headers=await auth_headers(app, "admin"),
        json={
            "email": "log@example.com",
            "display_name": "Log Test",
            "password": PASSWORD,
            "roles": ["employee"],
        },
    )
    assert created.status_code == 201
    token = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "log@example.com", "password": PASSWORD},
    )
    assert token.status_code == 200
    wrong = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "log@example.com", "password": "nope" * 4},
    )
    assert wrong.status_code == 400
    shop = await client.post(
        "/api/v1/admin/clients",
        headers=await auth_headers(app, "admin"),
        json={"name": "Shop", "role": "webshop"},
    )
    assert shop.status_code == 201
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert caplog.records, "the requests should have been logged"
    for secret in (
        PASSWORD,
        "nope" * 4,
        token.json()["access_token"],
        token.json()["refresh_token"],
        shop.json()["client_secret"],
        "log@example.com",
    ):
        assert secret not in logged

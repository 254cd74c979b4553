"""Token-endpoint errors as the committed contract documents them: RFC 6749 5.2's `error` and
`error_description` inside a problem document (`TokenProblem`), so a generated OAuth2 client
can tell a wrong password from a wrong client secret."""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
from sqlalchemy.ext.asyncio import AsyncSession

from app.http.openapi import CONTRACT_PATH
from tests.factories.identity import PASSWORD, TOKEN_URL, make_client, make_user

CONTRACT = schemathesis.openapi.from_path(CONTRACT_PATH)
TOKEN_OPERATION = CONTRACT[TOKEN_URL]["POST"]


def _documented(response: httpx.Response) -> None:
    """Fails unless the contract documents `response`'s status as a TokenProblem and its
    body and headers match that schema."""
    documented = json.loads(CONTRACT_PATH.read_text())["paths"][TOKEN_URL]["post"]["responses"]
    content = documented[str(response.status_code)]["content"]
    assert content == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/TokenProblem"}}
    }
    TOKEN_OPERATION.validate_response(response)


def _with_body(response: httpx.Response, body: dict[str, object]) -> httpx.Response:
    copy = httpx.Response(
        response.status_code,
        headers={"content-type": response.headers["content-type"]},
        json=body,
        request=response.request,
    )
    copy.elapsed = response.elapsed
    return copy


def _assert_schema_demands_rfc_6749_fields(response: httpx.Response) -> None:
    """The documented schema really constrains the fields: a bare problem, or a code the RFC
    does not define, does not pass."""
    body = response.json()
    for broken in (
        {k: v for k, v in body.items() if k != "error"},
        {k: v for k, v in body.items() if k != "error_description"},
        body | {"error": "access_denied_by_mood"},
    ):
        with pytest.raises(AssertionError):
            TOKEN_OPERATION.validate_response(_with_body(response, broken))


async def test_a_wrong_password_is_a_documented_invalid_grant(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, roles=["accountant"])
    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "password", "username": user.email, "password": PASSWORD + "x"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == body["detail"]
    assert body["type"] == "urn:backoffice:problem:invalid-grant"
    assert "access_token" not in body
    _documented(response)
    _assert_schema_demands_rfc_6749_fields(response)


async def test_a_wrong_client_secret_is_a_documented_invalid_client(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    shop, secret = await make_client(session, "webshop")
    response = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": str(shop.id),
            "client_secret": secret + "x",
        },
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Basic ")
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"]
    _documented(response)
    _assert_schema_demands_rfc_6749_fields(response)


async def test_a_body_that_cannot_be_parsed_is_an_rfc_6749_invalid_request(
    client: httpx.AsyncClient,
) -> None:
    """Every 400 of the token endpoint carries an RFC 6749 code, also when the form parser
    gives up before the endpoint runs."""
    response = await client.post(
        TOKEN_URL,
        content=b"grant_type=password",
        headers={"content-type": "multipart/form-data"},  # no boundary
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"
    _documented(response)

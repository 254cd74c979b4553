"""The audit log: what changes write, what it never holds, that it cannot be changed, reading it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.domain.identity.principal import Principal
from tests.factories.identity import auth_headers, bearer, make_user, signed_in

USERS = "/api/v1/admin/users"
CLIENTS = "/api/v1/admin/clients"
EVENTS = "/api/v1/audit/events"
NEW_PASSWORD = "Quite-Secret-Passphrase-1234"
_SECRET_MARKERS = ("password", "hash", "secret")


@pytest.fixture
async def admin(app: FastAPI) -> Principal:
    return await signed_in(app, "admin")


@pytest.fixture
def admin_headers(app: FastAPI, admin: Principal) -> dict[str, str]:
    return bearer(app, admin)


async def _events(session: AsyncSession, resource_id: object) -> list[dict[str, Any]]:
    """The stored rows of one resource, oldest first, each with its whole text as `row_text`."""
    result = await session.execute(
        text(
            "SELECT a.*, row_to_json(a)::text AS row_text FROM audit_event a "
            "WHERE resource_id = :id ORDER BY occurred_at, id"
        ),
        {"id": str(resource_id)},
    )
    return [dict(row) for row in result.mappings()]


async def _whole_table_text(session: AsyncSession) -> str:
    return await session.scalar(
        text("SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_event a")
    )


async def _create_user(
    client: httpx.AsyncClient, headers: dict[str, str], **changes: Any
) -> httpx.Response:
    body = {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com",
        "display_name": "Max Mustermann",
        "password": NEW_PASSWORD,
        "roles": ["employee"],
    } | changes
    response = await client.post(USERS, headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response


def _assert_no_secret_keys(state: dict[str, Any] | None) -> None:
    for key in state or {}:
        assert not any(marker in key.lower() for marker in _SECRET_MARKERS), key


async def test_creating_a_user_writes_an_audit_event(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Principal,
    admin_headers: dict[str, str],
) -> None:
    email = f"audited-{uuid.uuid4().hex[:8]}@example.com"
    response = await _create_user(client, admin_headers, email=email, roles=["employee", "sales"])
    user_id = response.json()["id"]

    [event] = await _events(session, user_id)
    assert event["action"] == "user.create"
    assert event["actor"] == f"user:{admin.id}"
    assert event["resource_type"] == "user"
    assert event["resource_id"] == user_id
    assert event["request_id"] == response.headers["x-request-id"]
    assert event["before"] is None
    assert event["after"]["email"] == email
    assert event["after"]["roles"] == ["employee", "sales"]
    _assert_no_secret_keys(event["after"])
    assert NEW_PASSWORD not in event["row_text"]
    password_hash = await session.scalar(
        text("SELECT password_hash FROM auth_user WHERE id = :id"), {"id": user_id}
    )
    assert password_hash not in event["row_text"]


async def test_audit_event_takes_the_callers_request_id(
    client: httpx.AsyncClient, session: AsyncSession, admin_headers: dict[str, str]
) -> None:
    request_id = f"trace-{uuid.uuid4().hex}"
    response = await client.post(
        USERS,
        headers=admin_headers | {"X-Request-ID": request_id},
        json={
            "email": f"traced-{uuid.uuid4().hex[:8]}@example.com",
            "display_name": "Traced",
            "password": NEW_PASSWORD,
            "roles": ["employee"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == request_id
    [event] = await _events(session, response.json()["id"])
    assert event["request_id"] == request_id


async def test_changing_roles_records_before_and_after(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Principal,
    admin_headers: dict[str, str],
) -> None:
    created = await _create_user(client, admin_headers)
    user_id = created.json()["id"]

    response = await client.patch(
        f"{USERS}/{user_id}",
        headers=admin_headers | {"If-Match": created.headers["etag"]},
        json={"roles": ["accountant", "employee"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["roles"] == ["accountant", "employee"]

    create, update = await _events(session, user_id)
    assert create["action"] == "user.create"
    assert update["action"] == "user.update"
    assert update["actor"] == f"user:{admin.id}"
    assert update["request_id"] == response.headers["x-request-id"]
    assert update["before"]["roles"] == ["employee"]
    assert update["after"]["roles"] == ["accountant", "employee"]
    assert update["before"]["email"] == update["after"]["email"]
    _assert_no_secret_keys(update["before"])
    _assert_no_secret_keys(update["after"])
    assert NEW_PASSWORD not in update["row_text"]


async def test_setting_a_password_is_audited_without_the_password(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Principal,
    admin_headers: dict[str, str],
) -> None:
    user_id = (await _create_user(client, admin_headers)).json()["id"]
    other_password = "Another-Long-Passphrase-99"
    response = await client.put(
        f"{USERS}/{user_id}/password", headers=admin_headers, json={"password": other_password}
    )
    assert response.status_code == 204, response.text
    events = await _events(session, user_id)
    assert [e["action"] for e in events] == ["user.create", "user.password_set"]
    assert events[1]["actor"] == f"user:{admin.id}"
    table = await _whole_table_text(session)
    assert other_password not in table
    assert NEW_PASSWORD not in table


async def test_client_secrets_never_reach_the_audit_log(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Principal,
    admin_headers: dict[str, str],
) -> None:
    created = await client.post(
        CLIENTS,
        headers=admin_headers,
        json={"name": f"shop-{uuid.uuid4().hex[:6]}", "role": "webshop"},
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    first_secret = created.json()["client_secret"]
    first_hash = await session.scalar(
        text("SELECT secret_hash FROM auth_client WHERE id = :id"), {"id": client_id}
    )

    rotated = await client.post(f"{CLIENTS}/{client_id}/secret", headers=admin_headers)
    assert rotated.status_code == 200, rotated.text
    second_secret = rotated.json()["client_secret"]
    assert second_secret != first_secret
    second_hash = await session.scalar(
        text("SELECT secret_hash FROM auth_client WHERE id = :id"), {"id": client_id}
    )

    events = await _events(session, client_id)
    assert [e["action"] for e in events] == ["client.create", "client.rotate_secret"]
    assert all(e["actor"] == f"user:{admin.id}" for e in events)
    assert events[1]["request_id"] == rotated.headers["x-request-id"]
    for event in events:
        _assert_no_secret_keys(event["before"])
        _assert_no_secret_keys(event["after"])
    table = await _whole_table_text(session)
    for secret in (first_secret, second_secret, first_hash, second_hash):
        assert secret not in table
    # Nor through the API that reads the log.
    listed = await client.get(EVENTS, headers=admin_headers, params={"resource_id": client_id})
    assert listed.status_code == 200
    assert first_secret not in listed.text
    assert second_secret not in listed.text


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'tampered'",
        "UPDATE audit_event SET after = NULL WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "TRUNCATE audit_event CASCADE",
    ],
)
async def test_the_database_refuses_to_change_audit_events(
    connection: AsyncConnection, session: AsyncSession, statement: str
) -> None:
    user = await make_user(session)
    await session.flush()
    [event] = await _events(session, user.id)
    count = await session.scalar(text("SELECT count(*) FROM audit_event"))
    assert count >= 1

    with pytest.raises((sa_exc.DBAPIError, sa_exc.ProgrammingError)) as caught:
        async with connection.begin_nested():
            await connection.execute(text(statement), {"id": event["id"]})
    assert "append-only" in str(caught.value)

    assert await session.scalar(text("SELECT count(*) FROM audit_event")) == count
    [again] = await _events(session, user.id)
    assert again["row_text"] == event["row_text"]


async def test_only_auditors_and_admins_read_the_log(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    await make_user(session)
    for role in ("admin", "auditor"):
        response = await client.get(EVENTS, headers=await auth_headers(app, role))
        assert response.status_code == 200, (role, response.text)
        assert response.json()["items"], role
    for role in ("accountant", "receptionist", "webshop", "employee", "hr_manager"):
        response = await client.get(EVENTS, headers=await auth_headers(app, role))
        assert response.status_code == 403, (role, response.text)
        assert "items" not in response.json()
    assert (await client.get(EVENTS)).status_code == 401


async def test_filters_select_matching_events(
    client: httpx.AsyncClient, app: FastAPI, admin: Principal, admin_headers: dict[str, str]
) -> None:
    first = (await _create_user(client, admin_headers)).json()["id"]
    second = (await _create_user(client, admin_headers)).json()["id"]
    shop = await client.post(
        CLIENTS,
        headers=admin_headers,
        json={"name": f"shop-{uuid.uuid4().hex[:6]}", "role": "webshop"},
    )
    shop_id = shop.json()["id"]
    assert (
        await client.post(f"{CLIENTS}/{shop_id}/secret", headers=admin_headers)
    ).status_code == 200

    auditor = await auth_headers(app, "auditor")

    async def listed(**params: str) -> list[dict[str, Any]]:
        response = await client.get(EVENTS, headers=auditor, params=params | {"limit": "100"})
        assert response.status_code == 200, response.text
        assert response.json()["next_cursor"] is None
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    actor = f"user:{admin.id}"
    by_actor = await listed(actor=actor)
    assert [(e["action"], e["resource_id"]) for e in by_actor] == [
        ("user.create", first),
        ("user.create", second),
        ("client.create", shop_id),
        ("client.rotate_secret", shop_id),
    ]
    creates = await listed(action="user.create", actor=actor)
    assert {e["resource_id"] for e in creates} == {first, second}
    assert all(e["action"] == "user.create" for e in await listed(action="user.create"))
    clients = await listed(resource_type="client")
    assert {e["resource_id"] for e in clients} >= {shop_id}
    assert all(e["resource_type"] == "client" for e in clients)
    one = await listed(resource_id=second)
    assert [e["action"] for e in one] == ["user.create"]
    assert one[0]["after"]["roles"] == ["employee"]
    combined = await listed(resource_type="client", resource_id=shop_id, action="client.create")
    assert [e["action"] for e in combined] == ["client.create"]
    assert await listed(action="no.such.action") == []
    assert await listed(resource_type="user", resource_id=shop_id) == []


async def test_cursor_pagination_walks_every_matching_event_once(
    client: httpx.AsyncClient, app: FastAPI, admin: Principal, admin_headers: dict[str, str]
) -> None:
    created = [(await _create_user(client, admin_headers)).json()["id"] for _ in range(4)]
    auditor = await auth_headers(app, "auditor")
    params = {"actor": f"user:{admin.id}", "action": "user.create", "limit": "1"}

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        response = await client.get(
            EVENTS, headers=auditor, params=params | ({"cursor": cursor} if cursor else {})
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 1
        seen += [e["resource_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created


async def test_unchanged_log_answers_304_to_if_none_match(
    client: httpx.AsyncClient, app: FastAPI, admin_headers: dict[str, str]
) -> None:
    await _create_user(client, admin_headers)
    auditor = await auth_headers(app, "auditor")
    params = {"action": "user.create"}
    first = await client.get(EVENTS, headers=auditor, params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]

    cached = await client.get(EVENTS, headers=auditor | {"If-None-Match": etag}, params=params)
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    # A new matching event changes the answer.
    await _create_user(client, admin_headers)
    changed = await client.get(EVENTS, headers=auditor | {"If-None-Match": etag}, params=params)
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()["items"]) == len(first.json()["items"]) + 1

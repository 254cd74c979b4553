"""The database itself refuses role names the code does not define for that kind of holder.

Fails when a role is added to app/domain/identity/roles.py without a migration extending the
CHECK constraints, or when a person could be given a client's role (or the reverse).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.domain.identity.roles import ROLES, HolderKind, roles_for
from tests.factories.identity import make_client, make_user

USER_ROLES = roles_for(HolderKind.user)
CLIENT_ROLES = roles_for(HolderKind.client)


async def _accepts(connection: AsyncConnection, sql: str, params: dict[str, object]) -> bool:
    try:
        async with connection.begin_nested():
            await connection.execute(text(sql), params)
    except IntegrityError as exc:
        if "known_role" not in str(exc.orig):
            raise  # refused for another reason: not what this test is about
        return False
    return True


@pytest.mark.parametrize("role", [*ROLES, "superuser"])
async def test_a_person_can_hold_exactly_the_user_roles(
    connection: AsyncConnection, session: AsyncSession, role: str
) -> None:
    user = await make_user(session, roles=[])
    sql = "INSERT INTO auth_user_role (user_id, role) VALUES (:u, :r)"
    assert await _accepts(connection, sql, {"u": user.id, "r": role}) == (role in USER_ROLES)


@pytest.mark.parametrize("role", [*ROLES, "superuser"])
async def test_a_client_can_hold_exactly_the_client_roles(
    connection: AsyncConnection, session: AsyncSession, role: str
) -> None:
    client, _ = await make_client(session)
    sql = "UPDATE auth_client SET role = :r WHERE id = :c"
    assert await _accepts(connection, sql, {"c": client.id, "r": role}) == (role in CLIENT_ROLES)

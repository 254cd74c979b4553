"""The role table: front office and integration clients never reach back-office permissions."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.domain.identity.roles import PERMISSIONS, ROLES, HolderKind, Office
from tests.factories.identity import auth_headers

FRONT_OFFICE_ROLES = [name for name, role in ROLES.items() if role.office is Office.front]
CLIENT_ROLES = [name for name, role in ROLES.items() if role.holder is HolderKind.client]
BACK_OFFICE_PERMISSIONS = {n for n, p in PERMISSIONS.items() if p.office is Office.back}


def test_the_table_has_both_offices_and_both_holders() -> None:
    """Guards the tests below against passing vacuously."""
    assert FRONT_OFFICE_ROLES
    assert CLIENT_ROLES
    assert BACK_OFFICE_PERMISSIONS
    assert any(p.office is Office.front for p in PERMISSIONS.values())


@pytest.mark.parametrize("role", FRONT_OFFICE_ROLES)
def test_no_front_office_role_holds_a_back_office_permission(role: str) -> None:
    assert not ROLES[role].permissions & BACK_OFFICE_PERMISSIONS


@pytest.mark.parametrize("role", CLIENT_ROLES)
def test_no_client_role_holds_a_back_office_permission(role: str) -> None:
    assert not ROLES[role].permissions & BACK_OFFICE_PERMISSIONS


@pytest.mark.parametrize("role", CLIENT_ROLES)
def test_every_client_role_is_front_office(role: str) -> None:
    assert ROLES[role].office is Office.front


# Written down independently of the table: which areas serve the front office. A permission
# filed under the wrong office (say `hr:salary:read` as front office) fails here.
FRONT_OFFICE_AREAS = {"catalog", "sales", "frontdesk", "directory", "self", "webhooks"}
BACK_OFFICE_AREAS = {
    "users",
    "audit",
    "accounting",
    "hr",
    "credit",
    "inventory",
    "partners",
    "orders",
}


@pytest.mark.parametrize("name", list(PERMISSIONS))
def test_each_permission_sits_in_the_office_of_its_area(name: str) -> None:
    permission = PERMISSIONS[name]
    assert permission.name == name
    area = name.split(":", 1)[0]
    assert area in FRONT_OFFICE_AREAS | BACK_OFFICE_AREAS, f"{name}: unknown area {area!r}"
    expected = Office.front if area in FRONT_OFFICE_AREAS else Office.back
    assert permission.office is expected, name


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_grants_only_known_permissions(role: str) -> None:
    assert ROLES[role].name == role
    assert ROLES[role].permissions <= set(PERMISSIONS)


async def test_the_roles_endpoint_serves_exactly_the_table(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/v1/auth/roles", headers=await auth_headers(app, "employee"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"roles", "permissions"}

    served_roles = {r["name"]: r for r in body["roles"]}
    assert len(served_roles) == len(body["roles"]), "a role is listed twice"
    assert served_roles == {
        name: {
            "name": name,
            "office": role.office.value,
            "holder": role.holder.value,
            "description": role.description,
            "permissions": sorted(role.permissions),
        }
        for name, role in ROLES.items()
    }

    served_permissions = {p["name"]: p for p in body["permissions"]}
    assert len(served_permissions) == len(body["permissions"]), "a permission is listed twice"
    assert served_permissions == {
        name: {"name": name, "office": p.office.value, "description": p.description}
        for name, p in PERMISSIONS.items()
    }

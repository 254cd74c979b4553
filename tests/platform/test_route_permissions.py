"""Every route declares who may call it, and the app enforces exactly that, for every role.

The declarations come from the route table (app.http.route_policy); the enforcement is checked by
calling every route, with every method, anonymously and with a token of every built-in role.
Requests carry random ids and minimal bodies: the point is the authorization answer, not the
validation one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.routing import RouteContext

from app.cli import contract_settings
from app.domain.identity.roles import PERMISSIONS, ROLES, HolderKind
from app.http.route_policy import PUBLIC_OPERATIONS, api_routes, permission_requirements
from app.main import create_app
from tests.factories.identity import auth_headers

_PATH_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path_template: str
    operation_id: str
    public: bool
    # Each requirement admits a caller holding any one of its permissions; a route needs every
    # requirement met. None at all: any signed-in caller.
    requirements: tuple[frozenset[str], ...]
    clients_only: bool  # people are refused, whatever they hold
    body: str | None  # "json", "form" or None

    def admits(self, granted: frozenset[str], holder: HolderKind) -> bool:
        if self.clients_only and holder is not HolderKind.client:
            return False
        return all(required & granted for required in self.requirements)

    def __str__(self) -> str:
        return f"{self.method} {self.path_template} ({self.operation_id})"

    def request_kwargs(self) -> dict[str, Any]:
        path = _PATH_PARAMETER.sub(lambda _: str(uuid.uuid4()), self.path_template)
        kwargs: dict[str, Any] = {"method": self.method, "url": path}
        if self.body == "json":
            kwargs["json"] = {}
        elif self.body == "form":
            kwargs["data"] = {}
        return kwargs


def _body_kind(route: RouteContext) -> str | None:
    if route.body_field is None:
        return None
    return "form" if isinstance(route.body_field.field_info, params.Form) else "json"


def _endpoints(app: FastAPI) -> list[Endpoint]:
    endpoints = []
    for route in api_routes(app):
        declared = permission_requirements(route)
        requirements = tuple(frozenset(r.permissions) for r in declared if r.permissions)
        for method in sorted(route.methods or ()):
            endpoints.append(
                Endpoint(
                    method=method,
                    path_template=str(route.path_format),
                    operation_id=str(route.operation_id),
                    public=route.operation_id in PUBLIC_OPERATIONS,
                    requirements=requirements,
                    clients_only=any(r.clients_only for r in declared),
                    body=_body_kind(route),
                )
            )
    return endpoints


ROUTE_TABLE_APP = create_app(contract_settings())
ROUTES = api_routes(ROUTE_TABLE_APP)


# (a) The route table.


def test_the_route_table_is_not_empty() -> None:
    assert len(ROUTES) > len(PUBLIC_OPERATIONS)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: str(r.operation_id))
def test_every_non_public_route_requires_a_permission_or_a_sign_in(route: RouteContext) -> None:
    assert route.operation_id, f"{route.path} has no operation_id"
    requirements = permission_requirements(route)
    if route.operation_id in PUBLIC_OPERATIONS:
        assert not requirements, f"{route.operation_id} is public but declares {requirements}"
    else:
        assert requirements, (
            f"{route.operation_id} ({route.path}) declares no PermissionRequirement: add "
            "require(...) or authenticated(), or list it in PUBLIC_OPERATIONS"
        )


@pytest.mark.parametrize("operation_id", sorted(PUBLIC_OPERATIONS))
def test_every_public_operation_exists(operation_id: str) -> None:
    assert operation_id in {r.operation_id for r in ROUTES}, (
        f"PUBLIC_OPERATIONS names {operation_id!r}, which no route has: remove it"
    )


def test_every_required_permission_exists() -> None:
    named = {
        (str(route.operation_id), permission)
        for route in ROUTES
        for requirement in permission_requirements(route)
        for permission in requirement.permissions
    }
    assert named, "no route requires any permission"
    unknown = sorted((op, p) for op, p in named if p not in PERMISSIONS)
    assert not unknown


def test_operation_ids_are_unique() -> None:
    ids = [(str(r.operation_id), m) for r in ROUTES for m in r.methods or ()]
    assert len(ids) == len(set(ids))
    assert len({r.operation_id for r in ROUTES}) == len(ROUTES)


# (b) Enforcement, route by route.


def _assert_no_server_error(endpoint: Endpoint, response: httpx.Response, who: str) -> None:
    assert response.status_code < 500, (
        f"{endpoint} as {who}: {response.status_code} {response.text[:300]}"
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"],
    ids=["no-token", "malformed-token", "wrong-scheme"],
)
async def test_anonymous_callers_get_401_from_every_protected_route(
    app: FastAPI, client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    endpoints = _endpoints(app)
    assert endpoints
    for endpoint in endpoints:
        response = await client.request(**endpoint.request_kwargs(), headers=headers)
        _assert_no_server_error(endpoint, response, "anonymous")
        if endpoint.public:
            assert response.status_code not in (401, 403), f"{endpoint}: {response.text}"
        else:
            assert response.status_code == 401, f"{endpoint}: {response.text}"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", list(ROLES))
async def test_each_role_gets_exactly_what_its_permissions_allow(
    app: FastAPI, client: httpx.AsyncClient, role: str
) -> None:
    granted, holder = ROLES[role].permissions, ROLES[role].holder
    endpoints = _endpoints(app)
    assert endpoints
    for endpoint in endpoints:
        # A new caller each time: signing out everywhere is one of the routes.
        headers = await auth_headers(app, role)
        response = await client.request(**endpoint.request_kwargs(), headers=headers)
        _assert_no_server_error(endpoint, response, role)
        if endpoint.public or endpoint.admits(granted, holder):
            assert response.status_code not in (401, 403), (
                f"{endpoint} as {role}: {response.status_code} {response.text}"
            )
        else:
            assert response.status_code == 403, (
                f"{endpoint} as {role} (needs one of each of {endpoint.requirements}): "
                f"{response.status_code} {response.text}"
            )
            assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", [None, *ROLES])
async def test_a_caller_without_the_permission_is_refused_before_its_body_is_read(
    app: FastAPI, client: httpx.AsyncClient, role: str | None
) -> None:
    """A body that is not even JSON gets 401/403 from a route the caller may not use, not a
    422 that would answer for the route."""
    headers = await auth_headers(app, role) if role else {}
    refused = [
        e
        for e in _endpoints(app)
        if e.body == "json"
        and not e.public
        and (role is None or not e.admits(ROLES[role].permissions, ROLES[role].holder))
    ]
    for endpoint in refused:
        kwargs = endpoint.request_kwargs() | {"content": b'{"not json'}
        del kwargs["json"]
        response = await client.request(
            **kwargs, headers=headers | {"Content-Type": "application/json"}
        )
        assert response.status_code == (403 if role else 401), (
            f"{endpoint} as {role or 'anonymous'}: {response.status_code} {response.text}"
        )


# (c) What each operation must require, written down independently of the routes themselves,
# so a route guarded by the wrong permission fails here. SIGNED_IN: any authenticated caller;
# "a|b": a caller holding a or b; a trailing CLIENTS_ONLY: integration clients only.
SIGNED_IN = "signed-in"
PUBLIC = "public"
CLIENTS_ONLY = " (clients only)"
EXPECTED_GUARDS: dict[str, str] = {
    "health_get_liveness": PUBLIC,
    "health_get_readiness": PUBLIC,
    "auth_create_token": PUBLIC,
    "auth_revoke_refresh_token": SIGNED_IN,
    "auth_revoke_all_sessions": SIGNED_IN,
    "auth_get_me": SIGNED_IN,
    "auth_list_roles": SIGNED_IN,
    "admin_list_users": "users:admin",
    "admin_create_user": "users:admin",
    "admin_get_user": "users:admin",
    "admin_update_user": "users:admin",
    "admin_set_user_password": "users:admin",
    "admin_list_clients": "users:admin",
    "admin_create_client": "users:admin",
    "admin_get_client": "users:admin",
    "admin_update_client": "users:admin",
    "admin_rotate_client_secret": "users:admin",
    "audit_list_events": "audit:read",
    "inventory_list_items": "catalog:read|inventory:read",
    "inventory_create_item": "inventory:write",
    "inventory_get_item": "catalog:read|inventory:read",
    "inventory_update_item": "inventory:write",
    "inventory_list_warehouses": "catalog:read|inventory:read",
    "inventory_create_warehouse": "inventory:write",
    "inventory_get_warehouse": "catalog:read|inventory:read",
    "inventory_update_warehouse": "inventory:write",
    "inventory_create_movement": "inventory:write",
    "inventory_list_movements": "inventory:read",
    "inventory_get_movement": "inventory:read",
    "inventory_list_stock": "catalog:read|inventory:read",
    "inventory_list_low_stock": "inventory:read",
    "orders_create_order": "sales:orders:write",
    "orders_list_orders": "orders:read|sales:orders:read",
    "orders_get_order": "orders:read|sales:orders:read",
    "orders_cancel_order": "sales:orders:write",
    "orders_ship_order": "inventory:write",
    "orders_set_channel": "users:admin",
    "events_list_events": (
        "catalog:read|inventory:read|orders:read|partners:read|sales:customers:read"
        "|sales:orders:read"
    ),
    "partners_list_partners": "partners:read|sales:customers:read",
    "partners_create_partner": "partners:write|sales:customers:write",
    "partners_get_partner": "partners:read|sales:customers:read",
    "partners_update_partner": "partners:write|sales:customers:write",
    "partners_get_partner_by_external_id": "partners:read|sales:customers:read" + CLIENTS_ONLY,
    "partners_upsert_partner_by_external_id": "partners:write|sales:customers:write" + CLIENTS_ONLY,
    "accounting_get_company": "accounting:read",
    "accounting_set_up_company": "accounting:post",
    "accounting_list_accounts": "accounting:read",
    "accounting_create_account": "accounting:post",
    "accounting_get_account": "accounting:read",
    "accounting_update_account": "accounting:post",
    "accounting_list_journal_entries": "accounting:read",
    "accounting_create_journal_entry": "accounting:post",
    "accounting_get_journal_entry": "accounting:read",
    "accounting_update_journal_entry": "accounting:post",
    "accounting_delete_journal_entry": "accounting:post",
    "accounting_post_journal_entry": "accounting:post",
    "accounting_reverse_journal_entry": "accounting:post",
    "accounting_verify_integrity": "accounting:read",
    "accounting_list_periods": "accounting:read",
    "accounting_close_period": "accounting:close",
    "accounting_reopen_period": "accounting:close",
    "accounting_list_fiscal_years": "accounting:read",
    "accounting_close_fiscal_year": "accounting:close",
    "accounting_trial_balance": "accounting:balances:read|accounting:read",
    "accounting_profit_and_loss": "accounting:balances:read|accounting:read",
    "accounting_balance_sheet": "accounting:balances:read|accounting:read",
    "accounting_general_ledger": "accounting:read",
    "accounting_export_datev": "accounting:read",
    "accounting_export_gdpdu": "accounting:read",
    "webhooks_list_subscriptions": "users:admin|webhooks:own",
    "webhooks_create_subscription": "users:admin|webhooks:own",
    "webhooks_get_subscription": "users:admin|webhooks:own",
    "webhooks_update_subscription": "users:admin|webhooks:own",
    "webhooks_rotate_subscription_secret": "users:admin|webhooks:own",
    "webhooks_list_deliveries": "users:admin|webhooks:own",
    "webhooks_get_delivery": "users:admin|webhooks:own",
    "webhooks_replay_delivery": "users:admin|webhooks:own",
    "webhooks_replay_subscription": "users:admin|webhooks:own",
}


def _guard_of(route: RouteContext) -> str:
    if route.operation_id in PUBLIC_OPERATIONS:
        return PUBLIC
    declared = permission_requirements(route)
    named = {"|".join(sorted(r.permissions)) for r in declared if r.permissions}
    guard = ",".join(sorted(named)) or SIGNED_IN
    return guard + CLIENTS_ONLY if any(r.clients_only for r in declared) else guard


def test_every_operation_is_guarded_as_written_down() -> None:
    actual = {str(route.operation_id): _guard_of(route) for route in ROUTES}
    assert actual == EXPECTED_GUARDS

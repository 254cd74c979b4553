"""Permissions and the built-in roles that bundle them.

Every permission belongs to the front office or the back office. Front-office roles and
integration clients never hold a back-office permission; tests assert it from this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Office(StrEnum):
    front = "front"
    back = "back"


class HolderKind(StrEnum):
    user = "user"
    client = "client"


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    office: Office
    description: str


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    office: Office
    holder: HolderKind
    description: str
    permissions: frozenset[str]


_B, _F = Office.back, Office.front

PERMISSIONS: dict[str, Permission] = {
    p.name: p
    for p in (
        Permission("users:admin", _B, "Manage users, integration clients and role assignments"),
        Permission("audit:read", _B, "Read the audit log"),
        Permission("accounting:read", _B, "Read ledgers, journal entries and reports"),
        Permission("accounting:post", _B, "Post and reverse journal entries"),
        Permission("accounting:close", _B, "Close and reopen periods, close fiscal years"),
        Permission(
            "accounting:balances:read", _B, "Read balances: trial balance, P&L, balance sheet"
        ),
        Permission("hr:read", _B, "Read employee records (without salaries)"),
        Permission("hr:write", _B, "Change employee records, approve leave"),
        Permission("hr:salary:read", _B, "See salaries and bank details"),
        Permission("credit:read", _B, "Read credit limits and risk assessments"),
        Permission("credit:decide", _B, "Set credit limits and decide on applications"),
        Permission("inventory:read", _B, "Read stock, movements and valuations"),
        Permission("inventory:write", _B, "Book goods in and out, count stock"),
        Permission("partners:read", _B, "Read all customers and suppliers"),
        Permission("partners:write", _B, "Create and change any customer or supplier"),
        Permission("orders:read", _B, "Read every sales order"),
        Permission("catalog:read", _F, "Read products and their availability"),
        Permission("sales:orders:read", _F, "Read sales orders"),
        Permission("sales:orders:write", _F, "Place and change sales orders"),
        Permission("sales:customers:read", _F, "Read customer contact data"),
        Permission("sales:customers:write", _F, "Create and change customers"),
        Permission("frontdesk:visitors:read", _F, "Read the visitor log"),
        Permission("frontdesk:visitors:write", _F, "Sign visitors in and out"),
        Permission("frontdesk:calls:read", _F, "Read the call log"),
        Permission("frontdesk:calls:write", _F, "Log calls"),
        Permission("frontdesk:mail:read", _F, "Read the mail log"),
        Permission("frontdesk:mail:write", _F, "Log incoming and outgoing mail"),
        Permission("directory:read", _F, "Look up colleagues (name, department, phone)"),
        Permission("self:read", _F, "Read one's own employee profile, leave and visitors"),
        Permission("self:leave:write", _F, "Request and cancel one's own leave"),
        Permission("webhooks:own", _F, "Manage the webhook subscriptions of one's own client"),
    )
}


def _back_office_all() -> frozenset[str]:
    return frozenset(n for n, p in PERMISSIONS.items() if p.office is Office.back)


def _role(
    name: str, office: Office, holder: HolderKind, description: str, permissions: Iterable[str]
) -> Role:
    return Role(name, office, holder, description, frozenset(permissions))


_USER, _CLIENT = HolderKind.user, HolderKind.client

ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        _role(
            "admin", _B, _USER, "Runs the system: every back-office permission", _back_office_all()
        ),
        _role(
            "auditor",
            _B,
            _USER,
            "Read-only access to the books and the audit log",
            [
                "audit:read",
                "accounting:read",
                "accounting:balances:read",
                "inventory:read",
                "credit:read",
                "hr:read",
                "partners:read",
                "orders:read",
            ],
        ),
        _role(
            "accountant",
            _B,
            _USER,
            "Keeps the books",
            [
                "accounting:read",
                "accounting:balances:read",
                "accounting:post",
                "accounting:close",
                "credit:read",
                "inventory:read",
                "partners:read",
                "partners:write",
                "orders:read",
            ],
        ),
        _role(
            "hr_manager",
            _B,
            _USER,
            "Manages employees, leave and pay",
            ["hr:read", "hr:write", "hr:salary:read"],
        ),
        _role(
            "credit_officer",
            _B,
            _USER,
            "Assesses customers' credit risk",
            ["credit:read", "credit:decide", "accounting:balances:read", "partners:read"],
        ),
        _role(
            "warehouse_clerk",
            _B,
            _USER,
            "Books stock in and out, ships orders",
            ["inventory:read", "inventory:write", "catalog:read", "orders:read"],
        ),
        _role(
            "receptionist",
            _F,
            _USER,
            "Runs the front desk",
            [
                "frontdesk:visitors:read",
                "frontdesk:visitors:write",
                "frontdesk:calls:read",
                "frontdesk:calls:write",
                "frontdesk:mail:read",
                "frontdesk:mail:write",
                "directory:read",
            ],
        ),
        _role(
            "sales",
            _F,
            _USER,
            "Sells: customers, orders, availability",
            [
                "catalog:read",
                "sales:orders:read",
                "sales:orders:write",
                "sales:customers:read",
                "sales:customers:write",
                "directory:read",
            ],
        ),
        _role(
            "employee",
            _F,
            _USER,
            "Self-service for every employee",
            ["self:read", "self:leave:write", "directory:read"],
        ),
        _role(
            "webshop",
            _F,
            _CLIENT,
            "The webshop: syncs orders and stock",
            [
                "catalog:read",
                "sales:orders:read",
                "sales:orders:write",
                "sales:customers:read",
                "sales:customers:write",
                "webhooks:own",
            ],
        ),
        _role(
            "reception_device",
            _F,
            _CLIENT,
            "A reception tablet: signs visitors in and out",
            ["frontdesk:visitors:read", "frontdesk:visitors:write", "directory:read"],
        ),
    )
}


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    """The union of the roles' permissions; unknown role names grant nothing."""
    granted: set[str] = set()
    for name in roles:
        role = ROLES.get(name)
        if role is not None:
            granted |= role.permissions
    return frozenset(granted)


def roles_for(holder: HolderKind) -> list[str]:
    return [name for name, role in ROLES.items() if role.holder is holder]

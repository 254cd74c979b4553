"""A small, realistic demo data set: one user per role and one client per machine role.

Loading is idempotent: what exists already (by e-mail or name) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import identity as queries
from app.domain.actor import Actor
from app.domain.identity import clients, users
from app.domain.identity.roles import ROLES

DEMO_ACTOR = Actor("system:demo-data")
DEMO_PASSWORD = "backoffice-demo"  # noqa: S105 (documented demo password, demo data only)
DEMO_DOMAIN = "demo.example"

DEMO_PEOPLE = {
    "admin": "Alex Admin",
    "auditor": "Petra Prüferin",
    "accountant": "Bernd Buchhalter",
    "hr_manager": "Hanna Personal",
    "credit_officer": "Kurt Kredit",
    "warehouse_clerk": "Lena Lager",
    "receptionist": "Emil Empfang",
    "sales": "Vera Vertrieb",
    "employee": "Max Mitarbeiter",
}
DEMO_CLIENTS = {"webshop": "Demo Webshop", "reception_device": "Reception tablet (lobby)"}


@dataclass(frozen=True, slots=True)
class DemoResult:
    created_users: list[str]
    created_clients: dict[str, tuple[str, str]]  # name -> (client_id, secret shown once)


def demo_email(role: str) -> str:
    return f"{role.replace('_', '.')}@{DEMO_DOMAIN}"


async def load_demo_data(session: AsyncSession) -> DemoResult:
    created_users: list[str] = []
    for role, name in DEMO_PEOPLE.items():
        email = demo_email(role)
        if await queries.get_user_by_email(session, email) is None:
            new = users.NewUser(
                email=email, display_name=name, password=DEMO_PASSWORD, roles=[role]
            )
            await users.create_user(session, DEMO_ACTOR, new)
            created_users.append(email)
    created_clients: dict[str, tuple[str, str]] = {}
    for role, name in DEMO_CLIENTS.items():
        if not await queries.client_name_taken(session, name):
            client, secret = await clients.create_client(
                session, DEMO_ACTOR, name=name, role=role, client_id=None
            )
            created_clients[name] = (str(client.id), secret)
    return DemoResult(created_users, created_clients)


def demo_users_markdown() -> str:
    """The README's table of demo users, generated from this module."""
    lines = ["| e-mail | role | office |", "|---|---|---|"]
    for role in DEMO_PEOPLE:
        lines.append(f"| `{demo_email(role)}` | {role} | {ROLES[role].office.value} |")
    lines.append(
        f"\nEvery demo user's password is `{DEMO_PASSWORD}`. Demo clients: "
        + ", ".join(f"{name} ({role})" for role, name in DEMO_CLIENTS.items())
        + "; their secrets are printed once, when `backoffice demo-data` creates them."
    )
    return "\n".join(lines)

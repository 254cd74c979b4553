"""Integration clients (the webshop, reception devices): credentials shown once, rotatable."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.keyset import PageRequest
from app.db.models.identity import Client
from app.db.repositories import identity as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound, RuleViolation
from app.domain.identity.roles import ROLES, HolderKind
from app.security.passwords import hash_secret, new_client_secret


@dataclass(frozen=True, slots=True)
class ClientChanges:
    name: str | None = None
    role: str | None = None
    is_active: bool | None = None


def checked_client_role(role: str) -> str:
    known = ROLES.get(role)
    if known is None or known.holder is not HolderKind.client:
        raise RuleViolation(f"{role!r} is not a role an integration client can hold")
    return role


def client_snapshot(client: Client) -> dict[str, Any]:
    return {"name": client.name, "role": client.role, "is_active": client.is_active}


async def list_clients(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[Client], str | None]:
    return await repo.list_clients(session, page)


async def get_client(session: AsyncSession, client_id: uuid.UUID) -> Client:
    client = await repo.get_client(session, client_id)
    if client is None:
        raise NotFound("no such client")
    return client


async def create_client(
    session: AsyncSession, actor: Actor, *, name: str, role: str, client_id: uuid.UUID | None
) -> tuple[Client, str]:
    """Returns the client and its secret: the only time the secret is ever shown."""
    role = checked_client_role(role)
    client_id = client_id or uuid.uuid4()
    if await repo.client_exists(session, client_id, name.strip()):
        raise Conflict("a client with this id or name already exists")
    secret = new_client_secret()
    client = Client(
        id=client_id, name=name.strip(), role=role, secret_hash=await hash_secret(secret)
    )
    session.add(client)
    await session.flush()
    await record_change(
        session,
        actor,
        action="client.create",
        resource_type="client",
        resource_id=client.id,
        before=None,
        after=client_snapshot(client),
    )
    await session.refresh(client)
    return client, secret


async def update_client(
    session: AsyncSession,
    actor: Actor,
    client_id: uuid.UUID,
    expected: ExpectedVersion,
    changes: ClientChanges,
) -> Client:
    client = await get_client(session, client_id)
    expected.check(client.version)
    before = client_snapshot(client)
    if changes.name is not None:
        client.name = changes.name.strip()
    if changes.role is not None:
        client.role = checked_client_role(changes.role)
    if changes.is_active is not None:
        client.is_active = changes.is_active
    after = client_snapshot(client)
    if after == before:
        return client
    client.updated_at = func.now()
    await session.flush()
    await record_change(
        session,
        actor,
        action="client.update",
        resource_type="client",
        resource_id=client.id,
        before=before,
        after=after,
    )
    await session.refresh(client)
    return client


async def rotate_client_secret(
    session: AsyncSession, actor: Actor, client_id: uuid.UUID, expected: ExpectedVersion
) -> tuple[Client, str]:
    """The old secret stops working at once; tokens already issued run out by `exp`."""
    client = await get_client(session, client_id)
    expected.check(client.version)
    secret = new_client_secret()
    client.secret_hash = await hash_secret(secret)
    client.updated_at = func.now()
    await session.flush()
    await record_change(
        session,
        actor,
        action="client.rotate_secret",
        resource_type="client",
        resource_id=client.id,
        before=None,
        after=None,
    )
    await session.refresh(client)
    return client, secret

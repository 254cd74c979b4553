"""Integration clients (the webshop, reception devices): credentials shown once, rotatable.

Deactivating a client, changing its role or rotating its secret revokes its access tokens at
once; the database does it (see revocation.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.identity import Client
from app.db.repositories import identity as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound, RuleViolation
from app.domain.identity.principal import PrincipalKind
from app.domain.identity.roles import ROLES, HolderKind
from app.security.passwords import hash_secret, new_client_secret

_UPDATE = AuditedChange("client.update", "client")


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
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await repo.client_rows(reader, page)


async def get_client(reader: AsyncConnection, client_id: uuid.UUID) -> Mapping[str, Any]:
    row = await repo.client_row(reader, client_id)
    if row is None:
        raise NotFound("no such client")
    return row


async def _load_client(session: AsyncSession, client_id: uuid.UUID) -> Client:
    client = await repo.load_client(session, client_id)
    if client is None:
        raise NotFound("no such client")
    return client


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("a user or client with this id, or a client with this name, exists") from exc


async def create_client(
    session: AsyncSession, actor: Actor, *, name: str, role: str, client_id: uuid.UUID | None
) -> tuple[Client, str]:
    """Returns the client and its secret: the only time the secret is ever shown. Names are
    unique, ids unique across people and clients."""
    secret = new_client_secret()
    client = Client(
        id=client_id or uuid.uuid4(),
        name=name.strip(),
        role=checked_client_role(role),
        secret_hash=await hash_secret(secret),
    )
    try:
        await repo.add_principal(session, client.id, PrincipalKind.client)
    except IntegrityError as exc:
        raise Conflict("a user or client with this id exists") from exc
    session.add(client)
    await _flush_unique(session)
    await record_change(
        session,
        actor,
        action="client.create",
        resource_type="client",
        resource_id=client.id,
        before=None,
        after=client_snapshot(client),
    )
    return client, secret


async def update_client(
    session: AsyncSession,
    actor: Actor,
    client_id: uuid.UUID,
    expected: ExpectedVersion,
    changes: ClientChanges,
) -> Client:
    client = await _load_client(session, client_id)
    role = checked_client_role(changes.role) if changes.role is not None else None

    def apply(target: Client) -> None:
        if changes.name is not None:
            target.name = changes.name.strip()
        if role is not None:
            target.role = role
        if changes.is_active is not None:
            target.is_active = changes.is_active

    try:
        await apply_audited_change(
            session,
            actor,
            client,
            expected=expected,
            snapshot=client_snapshot,
            apply=apply,
            change=_UPDATE,
        )
    except IntegrityError as exc:
        raise Conflict("a client with this name exists") from exc
    return client


async def rotate_client_secret(
    session: AsyncSession, actor: Actor, client_id: uuid.UUID, expected: ExpectedVersion
) -> tuple[Client, str]:
    """The old secret and every access token issued with it stop working at once."""
    client = await _load_client(session, client_id)
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
    return client, secret

"""Webhook subscriptions: an integration client's own, or made for it by an admin.

A subscription names a URL (see targets.py), the event types wanted (only types the client
may read) and carries a secret deliveries are signed with. The secret is shown when the
subscription is made and when it is rotated, never again, and never enters the audit log.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.webhooks import WebhookSubscription
from app.db.repositories.webhooks import subscriptions as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ReferenceConflict,
    missing,
)
from app.domain.events.types import READERS, EventType
from app.domain.identity.clients import get_client
from app.domain.identity.principal import Principal
from app.domain.identity.roles import permissions_of
from app.domain.webhooks.signing import new_secret
from app.domain.webhooks.targets import TargetPolicy, check_target

_NOT_FOUND = "no such subscription"
_UPDATE = AuditedChange("webhooks.subscription.update", "webhooks_subscription")
_ROTATE = AuditedChange("webhooks.subscription.rotate_secret", "webhooks_subscription")


@dataclass(frozen=True, slots=True)
class SubscriptionFields:
    """In a change, None means "leave as it is"."""

    url: str | None = None
    event_types: Sequence[EventType] | None = None
    is_active: bool | None = None


@dataclass(frozen=True, slots=True)
class Made:
    subscription: Mapping[str, Any]
    secret: str


def _view(subscription: WebhookSubscription) -> dict[str, Any]:
    names = [c.key for c in WebhookSubscription.__table__.c if c.key != "secret"]
    return {name: getattr(subscription, name) for name in names}


def _audit_view(subscription: WebhookSubscription) -> dict[str, Any]:
    view = _view(subscription)
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in view.items()} | {
        "event_types": list(subscription.event_types)
    }


def _check_owner(caller: Principal, client_id: uuid.UUID) -> None:
    if caller.is_client and client_id != caller.id:
        raise PermissionDenied("a client manages only its own subscriptions")


async def _client_permissions(
    db: AsyncConnection, caller: Principal, client_id: uuid.UUID
) -> frozenset[str]:
    if caller.is_client and caller.id == client_id:
        return caller.permissions
    try:
        client = await get_client(db, client_id)
    except NotFound as exc:
        raise missing("/client_id", "no such client") from exc
    if not client["is_active"]:
        raise missing("/client_id", "the client is deactivated")
    return permissions_of([client["role"]])


def _check_event_types(types: Sequence[EventType], permissions: frozenset[str]) -> list[str]:
    errors = [
        FieldError("the client may not read these events", pointer=f"/event_types/{i}")
        for i, kind in enumerate(types)
        if not READERS[kind].permissions & permissions
    ]
    if errors:
        # The client's role decides: the request conflicts with the stored client.
        raise ReferenceConflict("some event types are not the client's to receive", errors)
    return sorted({kind.value for kind in types})


async def create_subscription(
    session: AsyncSession,
    actor: Actor,
    caller: Principal,
    *,
    client_id: uuid.UUID,
    url: str,
    event_types: Sequence[EventType],
    policy: TargetPolicy,
    is_active: bool = True,
    subscription_id: uuid.UUID | None = None,
) -> Made:
    """A new subscription and its secret (shown this once)."""
    _check_owner(caller, client_id)
    permissions = await _client_permissions(await session.connection(), caller, client_id)
    wanted = _check_event_types(event_types, permissions)
    await check_target(url, policy)
    secret = new_secret()
    subscription = WebhookSubscription(
        id=subscription_id or uuid.uuid4(),
        client_id=client_id,
        url=url,
        event_types=wanted,
        secret=secret,
        is_active=is_active,
    )
    try:
        await repo.add(session, subscription)
    except IntegrityError as exc:
        raise Conflict("a subscription with this id exists") from exc
    await record_change(
        session,
        actor,
        action="webhooks.subscription.create",
        resource_type="webhooks_subscription",
        resource_id=subscription.id,
        before=None,
        after=_audit_view(subscription),
    )
    return Made(_view(subscription), secret)


async def _load_own(
    session: AsyncSession, caller: Principal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await repo.load(session, subscription_id)
    if subscription is None or (caller.is_client and subscription.client_id != caller.id):
        raise NotFound(_NOT_FOUND)
    return subscription


async def update_subscription(
    session: AsyncSession,
    actor: Actor,
    caller: Principal,
    subscription_id: uuid.UUID,
    expected: ExpectedVersion,
    fields: SubscriptionFields,
    policy: TargetPolicy,
) -> dict[str, Any]:
    """Change the URL, the event types or the active flag (re-checked like a new one)."""
    subscription = await _load_own(session, caller, subscription_id)
    values: dict[str, Any] = {}
    if fields.event_types is not None:
        permissions = await _client_permissions(
            await session.connection(), caller, subscription.client_id
        )
        values["event_types"] = _check_event_types(fields.event_types, permissions)
    if fields.url is not None:
        await check_target(fields.url, policy)
        values["url"] = fields.url
    if fields.is_active is not None:
        values["is_active"] = fields.is_active
    if fields.is_active:  # switched on again: failures before do not count
        values |= {"paused_reason": None, "consecutive_failures": 0}

    def apply(target: WebhookSubscription) -> None:
        for name, value in values.items():
            setattr(target, name, value)

    await apply_audited_change(
        session,
        actor,
        subscription,
        expected=expected,
        snapshot=_audit_view,
        apply=apply,
        change=_UPDATE,
    )
    return _view(subscription)


async def rotate_secret(
    session: AsyncSession,
    actor: Actor,
    caller: Principal,
    subscription_id: uuid.UUID,
    expected: ExpectedVersion,
) -> Made:
    """A new secret (shown this once); deliveries are signed with it from now on."""
    subscription = await _load_own(session, caller, subscription_id)
    secret = new_secret()

    def apply(target: WebhookSubscription) -> None:
        target.secret = secret

    # The audit log gets a fingerprint of each secret, never the secret.
    await apply_audited_change(
        session,
        actor,
        subscription,
        expected=expected,
        snapshot=lambda s: {"secret_sha256": hashlib.sha256(s.secret.encode()).hexdigest()[:16]},
        apply=apply,
        change=_ROTATE,
    )
    return Made(_view(subscription), secret)


async def get_subscription(
    reader: AsyncConnection, caller: Principal, subscription_id: uuid.UUID
) -> Mapping[str, Any]:
    """404 for another client's subscription, so their ids do not leak."""
    row = await repo.subscription_row(reader, subscription_id)
    if row is None or (caller.is_client and row["client_id"] != caller.id):
        raise NotFound(_NOT_FOUND)
    return row


async def list_subscriptions(
    reader: AsyncConnection, caller: Principal, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest change first; a client sees its own only."""
    return await repo.subscription_rows(
        reader, page, client_id=caller.id if caller.is_client else None
    )

"""The audit log every area writes to for changes to money, stock, people data and access."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.repositories import audit as repo
from app.db.repositories.audit import AuditFilter
from app.domain.actor import Actor

# Never stored, whatever a caller passes in: credentials do not belong in an audit trail.
_SECRET_MARKERS = ("password", "secret", "token", "hash")


def _without_secrets(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {k: v for k, v in state.items() if not any(m in k.lower() for m in _SECRET_MARKERS)}


async def record_change(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    resource_type: str,
    resource_id: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Append one event in the caller's transaction: it exists exactly when the change does.

    One INSERT, no unit-of-work flush: every change in every area pays for this."""
    await repo.append_event(
        session,
        {
            "id": uuid.uuid4(),
            "actor": actor.subject,
            "action": action,
            "resource_type": resource_type,
            "resource_id": str(resource_id),
            "before": _without_secrets(before),
            "after": _without_secrets(after),
            "request_id": actor.request_id,
        },
    )


async def list_events(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    actor: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    occurred_before: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    where = AuditFilter(actor, action, resource_type, resource_id, occurred_before)
    return await repo.list_events(reader, page, where)

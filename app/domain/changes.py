"""One audited change of a versioned resource: the sequence every area's updates follow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.concurrency import ExpectedVersion


class Versioned(Protocol):
    id: Any
    version: int
    updated_at: Any


R = TypeVar("R", bound=Versioned)


@dataclass(frozen=True, slots=True)
class AuditedChange:
    action: str  # e.g. "user.update"
    resource_type: str  # e.g. "user"


async def apply_audited_change(
    session: AsyncSession,
    actor: Actor,
    resource: R,
    *,
    expected: ExpectedVersion,
    snapshot: Callable[[R], dict[str, Any]],
    apply: Callable[[R], None],
    change: AuditedChange,
) -> bool:
    """Applies `apply` to a loaded resource when the caller's version is current, and records
    what changed (before/after snapshots) in the audit log in the same transaction.

    Nothing is written when nothing changed (the answer is False). A real change bumps
    `version` and `updated_at`; both come back from the UPDATE itself (mapper eager_defaults),
    so the resource is current afterwards without a re-read.
    """
    expected.check(resource.version)
    before = snapshot(resource)
    apply(resource)
    after = snapshot(resource)
    if after == before:
        return False
    # Touch the row itself, so a change held in a child table bumps its version too.
    resource.updated_at = func.now()
    await session.flush()
    await record_change(
        session,
        actor,
        action=change.action,
        resource_type=change.resource_type,
        resource_id=resource.id,
        before=before,
        after=after,
    )
    return True

"""Appending to and reading the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.base import AnyRow
from app.db.keyset import PageRequest, fetch_page
from app.db.models.audit import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    occurred_before: datetime | None = None


async def list_events(
    reader: AsyncConnection, page: PageRequest, where: AuditFilter
) -> tuple[Sequence[AnyRow], str | None]:
    stmt = select(*AuditEvent.__table__.c)
    for column, value in (
        (AuditEvent.actor, where.actor),
        (AuditEvent.action, where.action),
        (AuditEvent.resource_type, where.resource_type),
        (AuditEvent.resource_id, where.resource_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if where.occurred_before is not None:
        stmt = stmt.where(AuditEvent.occurred_at < where.occurred_before)
    return await fetch_page(
        reader, stmt, page=page, stamp=AuditEvent.occurred_at, ident=AuditEvent.id
    )

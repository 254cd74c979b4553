"""Appending to and reading the audit log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.audit import AuditEvent
from app.db.prepared import Prepared, as_json


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    occurred_before: datetime | None = None


_EVENTS = KeysetQuery(
    select(*AuditEvent.__table__.c),
    stamp=AuditEvent.occurred_at,
    ident=AuditEvent.id,
    filters={
        "actor": lambda value: AuditEvent.actor == value,
        "action": lambda value: AuditEvent.action == value,
        "resource_type": lambda value: AuditEvent.resource_type == value,
        "resource_id": lambda value: AuditEvent.resource_id == value,
        "occurred_before": lambda value: AuditEvent.occurred_at < value,
    },
)


_APPEND = Prepared(
    insert(AuditEvent).values(
        {
            column.name: bindparam(column.name, type_=column.type)
            for column in AuditEvent.__table__.c
            if column.server_default is None
        }
    )
)


async def append_event(session: AsyncSession, values: dict[str, Any]) -> None:
    """`before` and `after` as dicts (stored as JSONB)."""
    params = values | {"before": as_json(values["before"]), "after": as_json(values["after"])}
    await _APPEND.execute(session, **params)


async def list_events(
    reader: AsyncConnection, page: PageRequest, where: AuditFilter
) -> tuple[list[dict[str, Any]], str | None]:
    return await _EVENTS.page(reader, page, **dataclasses.asdict(where))

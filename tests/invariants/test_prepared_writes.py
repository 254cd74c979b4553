"""Writes that run on the driver (app/db/prepared.py) belong to the session's transaction, even
as its first statement and in the session's next transaction: rolled back with it, committed
with it, never on their own (real commits)."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from app.domain.actor import Actor
from app.domain.audit.service import record_change

ACTOR = Actor("user:prepared-test", "req-prepared")


async def _record(session: AsyncSession, resource_id: uuid.UUID) -> None:
    await record_change(
        session,
        ACTOR,
        action="test.prepared",
        resource_type="test",
        resource_id=resource_id,
        before=None,
        after={"n": 1},
    )


async def _stored(app: FastAPI, resource_id: uuid.UUID) -> int:
    async with app.state.db.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(AuditEvent.resource_id == str(resource_id))
        )
    return int(count or 0)


async def test_a_driver_write_as_the_first_statement_is_rolled_back_with_its_session(
    committed_app: FastAPI,
) -> None:
    kept, dropped = uuid.uuid4(), uuid.uuid4()
    async with committed_app.state.db.sessions() as session:
        await _record(session, dropped)
        await session.rollback()
        # The session's next transaction: the driver is looked up and begun again.
        await _record(session, kept)
        await session.commit()
        await _record(session, dropped)
        # Closed without a commit: rolled back.
    assert await _stored(committed_app, dropped) == 0
    assert await _stored(committed_app, kept) == 1

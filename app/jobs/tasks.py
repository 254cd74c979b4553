"""The tasks the worker runs. Each does its work in one unit of work (see queue.py).

They are plain functions, registered on each queue made (`register`): procrastinate's
blueprints change their tasks when added to an app, so one module-level set of tasks could
serve one app only, and tests and servers make several.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.engine import Database
from app.db.session import unit_of_work
from app.domain.orders.service import expire_overdue_orders
from app.domain.retention import Purged, purge_expired_records
from app.jobs import webhooks
from app.jobs.webhooks import WORKER_ACTOR

EXPIRY_BATCH = 100


def _database(context: JobContext) -> Database:
    db: Database = context.additional_context["db"]
    return db


def _settings(context: JobContext) -> Settings:
    settings: Settings = context.additional_context["settings"]
    return settings


async def expire_reservations(context: JobContext, timestamp: int) -> int:
    """Expires every open order whose reservation has run out; one transaction per batch."""
    expired = 0
    while True:
        async with unit_of_work(_database(context)) as session:
            batch = await expire_overdue_orders(
                session, WORKER_ACTOR, now=datetime.now(UTC), limit=EXPIRY_BATCH
            )
        expired += batch
        if batch < EXPIRY_BATCH:
            return expired


async def purge_as_configured(session: AsyncSession, settings: Settings) -> Purged:
    """What `backoffice purge` and the hourly job delete (app/domain/retention.py)."""
    return await purge_expired_records(
        session,
        now=datetime.now(UTC),
        login_window=timedelta(seconds=settings.login_window_seconds),
        delivery_log=timedelta(days=settings.webhook_log_days),
    )


async def purge(context: JobContext, timestamp: int) -> None:
    async with unit_of_work(_database(context)) as session:
        await purge_as_configured(session, _settings(context))


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Puts the unfinished jobs of workers that stopped sending heartbeats back in the queue."""
    manager = context.app.job_manager
    silent_for = _settings(context).worker_presumed_dead_seconds
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=silent_for))
    for job in stalled:
        try:
            await manager.retry_job(job)
        except procrastinate.exceptions.UniqueViolation:
            # A periodic job whose next run is queued already: that one does the work.
            await manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
    return len(stalled)


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    cron: str  # five fields, or six with seconds last
    run: Callable[[JobContext, int], Awaitable[Any]]


PERIODIC = (
    Periodic("expire_reservations", "* * * * * */10", expire_reservations),
    Periodic("purge_expired_records", "17 * * * *", purge),
    Periodic("retry_stalled_jobs", "* * * * * */10", retry_stalled_jobs),
)


def register(queue: procrastinate.App) -> None:
    """Our tasks on `queue`. Each periodic task gets the tick's timestamp; its queueing lock
    keeps at most one job of it waiting."""
    for job in PERIODIC:
        task = queue.task(name=job.name, queueing_lock=job.name, pass_context=True)(job.run)
        queue.periodic(cron=job.cron)(task)
    webhooks.register(queue)

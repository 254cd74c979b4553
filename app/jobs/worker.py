"""Running the worker: from `backoffice worker`, or inside a server process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from app.config import Settings
from app.db.engine import Database
from app.domain.webhooks.sender import Sender
from app.domain.webhooks.targets import Resolver, resolve
from app.jobs.queue import job_queue
from app.jobs.webhooks import HeldHere, OutboxListener
from app.webhook_policies import delivery_policy, target_policy

# Running jobs get this long to finish when the worker stops; then they are aborted (and,
# having not committed, retried by the next worker).
GRACEFUL_SECONDS = 10.0
POLL_SECONDS = 0.5


async def run_worker(
    settings: Settings,
    db: Database,
    *,
    concurrency: int,
    wait: bool = True,
    install_signal_handlers: bool = True,
    resolver: Resolver = resolve,
) -> None:
    """Runs jobs until stopped (SIGTERM/SIGINT with signal handlers, or cancellation); with
    `wait=False`, until the queue is empty. Stopping lets running jobs finish first.
    `resolver` looks up webhook hosts (tests give one that maps names to test addresses)."""
    queue = job_queue(settings)
    sender = Sender(
        target_policy(settings, resolver), timeout_seconds=settings.webhook_timeout_seconds
    )
    async with queue.open_async(), sender:
        held_here = HeldHere()
        listener = OutboxListener(db, queue, held_here)
        if wait:
            listener.start()
        try:
            await queue.run_worker_async(
                concurrency=concurrency,
                wait=wait,
                install_signal_handlers=install_signal_handlers,
                shutdown_graceful_timeout=GRACEFUL_SECONDS,
                # Jobs scheduled for later (retries) are looked for this often; new ones are
                # announced by notification at once.
                fetch_job_polling_interval=POLL_SECONDS,
                delete_jobs="successful",  # failed ones stay, to be looked into
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_presumed_dead_seconds,
                additional_context={
                    "db": db,
                    "settings": settings,
                    "sender": sender,
                    "delivery_policy": delivery_policy(settings),
                    "held_here": held_here,
                },
            )
        finally:
            await listener.stop()


@contextlib.asynccontextmanager
async def in_process_worker(settings: Settings, db: Database) -> AsyncIterator[None]:
    """A worker running beside the app while the block runs (the server's lifespan)."""
    task = asyncio.get_running_loop().create_task(
        run_worker(
            settings,
            db,
            concurrency=settings.worker_concurrency,
            install_signal_handlers=False,  # the server's own handlers stop the app
        )
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

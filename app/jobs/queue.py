"""The job queue: procrastinate, on the application's own PostgreSQL.

procrastinate hands each job to one worker (a row lock taken in its fetch function), retries a
failed job as its task says, and defers a periodic task once per tick however many workers
run. A worker that dies (kill -9) stops sending heartbeats; `retry_stalled_jobs` then puts its
unfinished jobs back in the queue, so none is lost. Every task does its work in one database
transaction: a job cut off before its commit left nothing behind, and its retry does the
work once.
"""

from __future__ import annotations

import procrastinate

from app.config import Settings
from app.jobs.tasks import register


def job_queue(settings: Settings) -> procrastinate.App:
    """The queue with every task of ours. Open it (`open_async`) before use."""
    connector = procrastinate.PsycopgConnector(
        conninfo=settings.libpq_database_url,
        min_size=1,
        max_size=settings.worker_concurrency + 2,
        kwargs={"connect_timeout": max(1, round(settings.db_connect_timeout_seconds))},
    )
    queue = procrastinate.App(connector=connector)
    register(queue)
    return queue

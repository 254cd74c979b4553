"""Webhook delivery as jobs: fan-out, per-subscription delivery, and what starts them.

- `webhooks_fan_out` turns settled outbox events into deliveries and starts delivery of each
  subscription that got some. One runs at a time (its lock).
- `webhooks_deliver` posts one subscription's deliveries in order. Its lock is the
  subscription's, so however many workers run, one subscription is delivered by one job at a
  time: no delivery is posted by two workers at once, and none overtakes another.
- `webhooks_sweep` (every five seconds) starts both for whatever is due, in case a
  notification was missed (a worker restarting, a lost listener connection).

Workers listen on the outbox's channel (a trigger notifies it when events are written) and
start a fan-out at once, so deliveries leave within milliseconds of the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import procrastinate
from procrastinate import JobContext

from app.db.engine import Database
from app.db.notifications import ChannelListener, Subscriber
from app.db.repositories.webhooks.deliveries import NOTIFY_CHANNEL, subscriptions_due
from app.db.session import unit_of_work
from app.domain.actor import Actor
from app.domain.webhooks import delivery
from app.domain.webhooks.delivery import DeliveryPolicy
from app.domain.webhooks.sender import Sender

log = logging.getLogger(__name__)

WORKER_ACTOR = Actor("system:worker")
FAN_OUT = "webhooks_fan_out"
DELIVER = "webhooks_deliver"
SWEEP = "webhooks_sweep"
# A delivery job hands over to a fresh one after this long, so a busy subscription does not
# hold a worker slot (or a graceful shutdown) for long.
DELIVER_BUDGET_SECONDS = 5.0
# Events of a transaction still running wait behind the fan-out's horizon; look again soon.
UNSETTLED_RECHECK_SECONDS = 0.2


def _db(context: JobContext) -> Database:
    db: Database = context.additional_context["db"]
    return db


def _policy(context: JobContext) -> DeliveryPolicy:
    policy: DeliveryPolicy = context.additional_context["delivery_policy"]
    return policy


def _sender(context: JobContext) -> Sender:
    sender: Sender = context.additional_context["sender"]
    return sender


async def _defer(
    queue: procrastinate.App, task: str, lock: str, at: datetime | None = None, **kwargs: str
) -> None:
    """Queues the job unless one with its lock is waiting already (that one does the work)."""
    deferrer = queue.configure_task(task, lock=lock, queueing_lock=lock, schedule_at=at)
    with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
        await deferrer.defer_async(**kwargs)


async def defer_fan_out(queue: procrastinate.App, at: datetime | None = None) -> None:
    await _defer(queue, FAN_OUT, FAN_OUT, at)


async def defer_delivery(
    queue: procrastinate.App, subscription_id: uuid.UUID | str, at: datetime | None = None
) -> None:
    await _defer(
        queue, DELIVER, f"{DELIVER}:{subscription_id}", at, subscription_id=str(subscription_id)
    )


async def fan_out(context: JobContext) -> int:
    """Deliveries for every settled event not fanned out yet; how many events were read."""
    policy, read = _policy(context), 0
    while True:
        async with unit_of_work(_db(context)) as session:
            fanned = await delivery.fan_out(session, policy)
        read += fanned.scanned
        for subscription_id in fanned.subscriptions:
            await defer_delivery(context.app, subscription_id)
        if fanned.scanned < delivery.FAN_OUT_BATCH:
            break
    if fanned.unsettled:
        soon = datetime.now(UTC) + timedelta(seconds=UNSETTLED_RECHECK_SECONDS)
        await defer_fan_out(context.app, at=soon)
    return read


async def deliver(context: JobContext, subscription_id: str) -> int:
    """Posts the subscription's due deliveries in order; how many attempts it made."""
    subscription, policy = uuid.UUID(subscription_id), _policy(context)
    ends, made = time.monotonic() + DELIVER_BUDGET_SECONDS, 0
    while time.monotonic() < ends:
        async with unit_of_work(_db(context)) as session:
            batch = await delivery.next_batch(session, subscription)
        if batch is None:
            return made
        if isinstance(batch, datetime):
            await defer_delivery(context.app, subscription, at=batch)
            return made
        outcome = await delivery.send(batch, _sender(context), policy)
        async with unit_of_work(_db(context)) as session:
            paused = await delivery.record(session, WORKER_ACTOR, batch, outcome, policy)
        made += len(outcome.attempts)
        if paused:
            log.warning("webhook subscription %s paused: deliveries kept failing", subscription)
            return made
        if outcome.wait_until is not None:
            await defer_delivery(context.app, subscription, at=outcome.wait_until)
            return made
        if not batch.full:
            return made
    await defer_delivery(context.app, subscription)
    return made


async def sweep(context: JobContext, timestamp: int) -> None:
    """Starts a fan-out and the delivery of every subscription with a due delivery."""
    await defer_fan_out(context.app)
    async with _db(context).reader() as reader:
        due = await subscriptions_due(reader)
    for subscription_id in due:
        await defer_delivery(context.app, subscription_id)


def register(queue: procrastinate.App) -> None:
    queue.task(name=FAN_OUT, pass_context=True)(fan_out)
    queue.task(name=DELIVER, pass_context=True)(deliver)
    sweeping = queue.task(name=SWEEP, queueing_lock=SWEEP, pass_context=True)(sweep)
    queue.periodic(cron="* * * * * */5")(sweeping)


class OutboxListener:
    """Starts a fan-out when events are written, a delivery when a replay is queued (the
    notification names the subscription). Notifications arriving while a start is under way
    are folded into one more start after it."""

    def __init__(self, db: Database, queue: procrastinate.App) -> None:
        self._queue = queue
        self._wanted: set[str] = set()
        self._running: asyncio.Task[None] | None = None
        self._listener = ChannelListener(
            db.engine,
            NOTIFY_CHANNEL,
            Subscriber(
                on_message=self._heard, on_listening=lambda: self._heard(""), on_lost=lambda: None
            ),
        )

    def start(self) -> None:
        self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    def _heard(self, payload: str) -> None:
        self._wanted.add(payload)
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().create_task(self._start_jobs())

    async def _start_jobs(self) -> None:
        while self._wanted:
            wanted, self._wanted = self._wanted, set()
            try:
                for payload in wanted:
                    if not payload:
                        await defer_fan_out(self._queue)
                    elif _is_uuid(payload):
                        await defer_delivery(self._queue, payload)
            except Exception:  # the sweep starts them later; the listener must live on
                log.exception("could not start webhook jobs")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True

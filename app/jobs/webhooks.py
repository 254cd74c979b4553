"""Webhook delivery as jobs: fan-out, per-subscription delivery, and what starts them.

- `webhooks_fan_out` turns settled outbox events into deliveries and starts delivery of each
  subscription that got some. One job at a time does it (a lease, as below).
- `webhooks_deliver` posts one subscription's deliveries in order while it holds the
  subscription's lease (a `webhooks_lease` row, taken by a conditional write), so however many
  workers run, one job at a time delivers a subscription: no delivery is posted by two
  workers at once, and none overtakes another. A job that finds the lease taken ends; the
  holder looks for new deliveries after letting go, so none is left waiting.
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
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum

import procrastinate
from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
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
# hold a worker slot (or a graceful shutdown) for long. Its lease outlasts the budget and one
# more attempt by this margin; a worker killed while holding it delays that subscription so long.
DELIVER_BUDGET_SECONDS = 5.0
LEASE_MARGIN_SECONDS = 15.0
# Events of a transaction that committed while an older one still runs wait behind the
# fan-out's horizon: looked for again after these pauses (doubling while nothing settles).
RECHECK_FIRST_SECONDS = 0.02
RECHECK_MAX_SECONDS = 0.2
FAN_OUT_BUDGET_SECONDS = 2.0


def _db(context: JobContext) -> Database:
    db: Database = context.additional_context["db"]
    return db


def _policy(context: JobContext) -> DeliveryPolicy:
    policy: DeliveryPolicy = context.additional_context["delivery_policy"]
    return policy


def _held_here(context: JobContext) -> HeldHere:
    held: HeldHere = context.additional_context["held_here"]
    return held


def _sender(context: JobContext) -> Sender:
    sender: Sender = context.additional_context["sender"]
    return sender


async def _defer(
    queue: procrastinate.App, task: str, waiting: str, at: datetime | None = None, **kwargs: str
) -> None:
    """Queues the job unless one with the same queueing lock is waiting already (that one
    does the work)."""
    deferrer = queue.configure_task(task, queueing_lock=waiting, schedule_at=at)
    with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
        await deferrer.defer_async(**kwargs)


async def defer_fan_out(queue: procrastinate.App) -> None:
    await _defer(queue, FAN_OUT, FAN_OUT)


async def defer_delivery(
    queue: procrastinate.App, subscription_id: uuid.UUID | str, at: datetime | None = None
) -> None:
    await _defer(
        queue, DELIVER, f"{DELIVER}:{subscription_id}", at, subscription_id=str(subscription_id)
    )


class Then(Enum):
    """What leased work says when it ends."""

    LOOK_AGAIN = "nothing was left when it looked: look once more after letting go"
    HAND_OVER = "its time is up: a fresh job goes on once the lease is let go"
    DONE = "it has seen to what comes next (a retry queued, the subscription paused)"


async def _leased(
    context: JobContext,
    lease: str,
    length: timedelta,
    work: Callable[[], Awaitable[Then]],
    anything_left: Callable[[AsyncSession], Awaitable[bool]],
    hand_over: Callable[[], Awaitable[None]],
) -> None:
    """Runs `work` while holding `lease`; ends at once when another job holds it. Work that
    arrived while the lease was held found it taken (or, in this process, was left to the
    holder: HeldHere), so the holder looks for it after letting go: nothing waits for the
    sweep."""
    holder = uuid.uuid4()
    while True:
        async with unit_of_work(_db(context)) as session:
            if not await delivery.claim(session, lease, holder, length):
                return
        try:
            async with _held_here(context).holding(lease):
                then = await work()
        finally:
            async with unit_of_work(_db(context)) as session:
                await delivery.release(session, lease, holder)
        if then is Then.HAND_OVER:
            await hand_over()
        if then is not Then.LOOK_AGAIN:
            return
        async with _db(context).sessions() as session:
            if not await anything_left(session):
                return


async def fan_out(context: JobContext) -> None:
    """Deliveries for every settled event not fanned out yet, one job at a time."""
    length = timedelta(seconds=FAN_OUT_BUDGET_SECONDS + LEASE_MARGIN_SECONDS)
    await _leased(
        context,
        delivery.FAN_OUT_LEASE,
        length,
        lambda: _fan_out_held(context),
        delivery.events_behind,
        lambda: defer_fan_out(context.app),
    )


async def _fan_out_held(context: JobContext) -> Then:
    """Fans out until no event waits; events behind a running transaction are looked for
    again at growing intervals, until the budget is spent and a fresh job takes over."""
    policy, pause = _policy(context), RECHECK_FIRST_SECONDS
    ends = time.monotonic() + FAN_OUT_BUDGET_SECONDS
    while True:
        async with unit_of_work(_db(context)) as session:
            fanned = await delivery.fan_out(session, policy)
        for subscription_id in fanned.subscriptions:
            if not _held_here(context).holds(delivery.delivery_lease(subscription_id)):
                await defer_delivery(context.app, subscription_id)
        if fanned.scanned == delivery.FAN_OUT_BATCH:
            continue
        async with _db(context).sessions() as session:
            if not await delivery.events_behind(session):
                return Then.LOOK_AGAIN
        if time.monotonic() > ends:
            return Then.HAND_OVER
        pause = RECHECK_FIRST_SECONDS if fanned.scanned else min(2 * pause, RECHECK_MAX_SECONDS)
        await asyncio.sleep(pause)


async def deliver(context: JobContext, subscription_id: str) -> None:
    """Posts the subscription's due deliveries in order, one job at a time."""
    subscription = uuid.UUID(subscription_id)
    length = timedelta(seconds=DELIVER_BUDGET_SECONDS + _timeout(context) + LEASE_MARGIN_SECONDS)
    await _leased(
        context,
        delivery.delivery_lease(subscription),
        length,
        lambda: _deliver_held(context, subscription),
        lambda session: delivery.head_due(session, subscription),
        lambda: defer_delivery(context.app, subscription),
    )


async def _deliver_held(context: JobContext, subscription: uuid.UUID) -> Then:
    """Batches until nothing is due, the budget is spent or the first delivery waits for its
    retry (then a job is queued for that time)."""
    policy = _policy(context)
    ends = time.monotonic() + DELIVER_BUDGET_SECONDS
    while time.monotonic() < ends:
        async with unit_of_work(_db(context)) as session:
            batch = await delivery.next_batch(session, subscription)
        if batch is None:
            return Then.LOOK_AGAIN
        if isinstance(batch, datetime):
            await defer_delivery(context.app, subscription, at=batch)
            return Then.DONE
        outcome = await delivery.send(batch, _sender(context), policy, until=ends)
        async with unit_of_work(_db(context)) as session:
            paused = await delivery.record(session, WORKER_ACTOR, batch, outcome, policy)
        if paused:
            log.warning("webhook subscription %s paused: deliveries kept failing", subscription)
            return Then.DONE
        if outcome.wait_until is not None:
            await defer_delivery(context.app, subscription, at=outcome.wait_until)
            return Then.DONE
    return Then.HAND_OVER


def _timeout(context: JobContext) -> float:
    settings: Settings = context.additional_context["settings"]
    return settings.webhook_timeout_seconds


async def sweep(context: JobContext, timestamp: int) -> None:
    """Starts a fan-out and the delivery of every subscription with a due delivery."""
    await defer_fan_out(context.app)
    async with _db(context).reader() as reader:
        due = await subscriptions_due(reader)
    for subscription_id in due:
        await defer_delivery(context.app, subscription_id)


def register(queue: procrastinate.App) -> None:
    # No procrastinate locks: a lease keeps each to one job at a time, and a job that finds
    # it taken ends at once instead of waiting in the queue for the worker's next poll.
    queue.task(name=FAN_OUT, pass_context=True)(fan_out)
    queue.task(name=DELIVER, pass_context=True)(deliver)
    sweeping = queue.task(name=SWEEP, queueing_lock=SWEEP, pass_context=True)(sweep)
    queue.periodic(cron="* * * * * */5")(sweeping)


class HeldHere:
    """The leases jobs of this process hold right now. Work a lease covers that comes up
    while it is held here is the holder's to find (it looks until none is left, and once
    more after letting go), so no job is started that would only find the lease taken."""

    def __init__(self) -> None:
        self._held: Counter[str] = Counter()

    def holds(self, lease: str) -> bool:
        return self._held[lease] > 0

    @contextlib.asynccontextmanager
    async def holding(self, lease: str) -> AsyncIterator[None]:
        self._held[lease] += 1
        try:
            yield
        finally:
            self._held[lease] -= 1


class OutboxListener:
    """Starts a fan-out when events are written (unless this process is fanning out), a
    delivery when a replay is queued (the notification names the subscription).
    Notifications arriving while a start is under way are folded into one more start."""

    def __init__(self, db: Database, queue: procrastinate.App, held_here: HeldHere) -> None:
        self._queue = queue
        self._held_here = held_here
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
        if not payload and self._held_here.holds(delivery.FAN_OUT_LEASE):
            return
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

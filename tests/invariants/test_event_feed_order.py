"""The feed never skips an event that commits late, and never returns one twice (real commits).

Positions are handed out when an event is written, but transactions commit in any order; a
reader that resumed after the highest position it had seen would lose the late ones.

The horizon is the server's: a transaction open anywhere on it (another test worker's) holds
events back a little longer, never for good, so readers here poll until the events are due.
"""

from __future__ import annotations

import asyncio
import random
import uuid

from fastapi import FastAPI

from app.domain.events.service import Event, publish, read_feed
from app.domain.events.types import EventType
from tests.factories.identity import principal_for

READER = principal_for("webshop")


def _event(tag: uuid.UUID) -> Event:
    return Event(EventType.stock_changed, tag, {"tag": str(tag)})


PATIENCE_SECONDS = 60.0


async def _poll(app: FastAPI, after: str | None) -> tuple[list[dict], str | None]:
    async with app.state.db.reader() as reader:
        page = await read_feed(reader, READER, after=after, types=None, limit=1000)
    return page.events, page.next_cursor


async def _poll_until(app: FastAPI, after: str | None, count: int) -> list[dict]:
    """Everything after `after` once `count` events have arrived (or the patience ran out)."""
    seen: list[dict] = []
    deadline = asyncio.get_running_loop().time() + PATIENCE_SECONDS
    while len(seen) < count and asyncio.get_running_loop().time() < deadline:
        events, after = await _poll(app, after)
        seen += events
        await asyncio.sleep(0.05)
    return seen


async def test_an_event_behind_a_running_transaction_waits_for_it(committed_app: FastAPI) -> None:
    app = committed_app
    _, start = await _poll(app, None)
    early, late = uuid.uuid4(), uuid.uuid4()
    async with app.state.db.sessions() as slow:
        await publish(slow, [_event(early)])  # the lower position, committed last
        async with app.state.db.sessions() as fast:
            await publish(fast, [_event(late)])
            await fast.commit()
        seen, cursor = await _poll(app, start)
        assert seen == [], "an event was returned while an older transaction could still commit"
        await slow.commit()
    seen = await _poll_until(app, cursor, 2)
    assert [e["subject_id"] for e in seen] == [early, late]


async def test_concurrent_writers_and_a_polling_reader_see_every_event_exactly_once(
    committed_app: FastAPI,
) -> None:
    app = committed_app
    _, start = await _poll(app, None)
    committed: set[uuid.UUID] = set()
    rng = random.Random()

    async def writer() -> None:
        tags = [uuid.uuid4() for _ in range(rng.randint(1, 3))]
        async with app.state.db.sessions() as session:
            await publish(session, [_event(t) for t in tags])
            await asyncio.sleep(rng.uniform(0, 0.05))
            if rng.random() < 0.2:
                await session.rollback()  # an aborted change publishes nothing
                return
            await session.commit()
        committed.update(tags)

    seen: list[uuid.UUID] = []
    done = asyncio.Event()

    async def reader() -> None:
        cursor = start
        loop = asyncio.get_running_loop()
        deadline = None
        while True:
            events, cursor = await _poll(app, cursor)
            seen.extend(e["subject_id"] for e in events)
            if done.is_set():
                deadline = deadline or loop.time() + PATIENCE_SECONDS
                # Read on after the writers are done, until everything committed has arrived
                # (and a little past it, so a duplicate would show) or the patience ran out.
                if committed <= set(seen):
                    events, cursor = await _poll(app, cursor)
                    seen.extend(e["subject_id"] for e in events)
                    return
                if loop.time() > deadline:
                    return
            await asyncio.sleep(0.002)

    polling = asyncio.create_task(reader())
    for _ in range(4):
        await asyncio.gather(*(writer() for _ in range(15)))
    done.set()
    await polling
    assert len(seen) == len(set(seen)), "an event was returned twice"
    assert set(seen) == committed, "an event was skipped, or an aborted one returned"

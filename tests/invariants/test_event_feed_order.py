"""The feed never skips an event that commits late, and never returns one twice (real commits).

Positions are handed out when an event is written, but transactions commit in any order; a
reader that resumed after the highest position it had seen would lose the late ones.
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


async def _poll(app: FastAPI, after: str | None) -> tuple[list[dict], str | None]:
    async with app.state.db.reader() as reader:
        page = await read_feed(reader, READER, after=after, types=None, limit=1000)
    return page.events, page.next_cursor


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
    seen, cursor = await _poll(app, cursor)
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
        while True:
            finished = done.is_set()
            events, cursor = await _poll(app, cursor)
            seen.extend(e["subject_id"] for e in events)
            if finished and not events:
                return
            await asyncio.sleep(0.002)

    polling = asyncio.create_task(reader())
    for _ in range(4):
        await asyncio.gather(*(writer() for _ in range(15)))
    done.set()
    await polling
    assert len(seen) == len(set(seen)), "an event was returned twice"
    assert set(seen) == committed, "an event was skipped, or an aborted one returned"

"""LISTEN on a PostgreSQL channel from a dedicated connection that reconnects by itself.

PostgreSQL delivers a NOTIFY to every listening connection when the sending transaction
commits, so every process of the API hears a change however many there are. The subscriber is
told when the connection is up (nothing missed from then on) and when it is lost (changes may
be missed until it is up again); a connection that hangs silently is found by a periodic ping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Subscriber:
    on_message: Callable[[str], None]
    on_listening: Callable[[], None]
    on_lost: Callable[[], None]


class ChannelListener:
    def __init__(
        self,
        engine: AsyncEngine,
        channel: str,
        subscriber: Subscriber,
        *,
        ping_seconds: float = 5.0,
        retry_seconds: float = 1.0,
    ) -> None:
        # The engine's own dialect turns its URL into asyncpg's arguments (socket, ssl, ...).
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._connect_args: tuple[list[Any], dict[str, Any]] = (list(args), dict(kwargs))
        self._channel = channel
        self._subscriber = subscriber
        self._ping_seconds = ping_seconds
        self._retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_once()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("notification listener lost its connection: %s", type(exc).__name__)
            self._subscriber.on_lost()
            await asyncio.sleep(self._retry_seconds)

    async def _listen_once(self) -> None:
        args, kwargs = self._connect_args
        connection: asyncpg.Connection = await asyncpg.connect(*args, **kwargs)
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(self._channel, self._deliver)
            self._subscriber.on_listening()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping_seconds)
                if not lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=self._ping_seconds)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), self._ping_seconds)

    def _deliver(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        self._subscriber.on_message(str(payload))

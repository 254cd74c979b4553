"""CPU-heavy work (formatting and compressing an export) off the event loop, so a long export
does not hold up the other requests of its process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work` in a worker thread. A caller cancelled meanwhile (the client went away) still
    waits for it to end before the cancellation goes on, so its clean-up never closes a file
    under a thread still writing it."""
    running = asyncio.ensure_future(asyncio.to_thread(work, *args, **kwargs))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        while not running.done():  # however often the caller is cancelled meanwhile
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([running])
        if not running.cancelled():
            running.exception()  # the caller is gone; its error would only be logged as lost
        raise

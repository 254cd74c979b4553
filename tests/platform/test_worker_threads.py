"""Work off the event loop (app/domain/worker_threads.py): results and errors come back, and a
caller cancelled meanwhile waits for the thread, so its clean-up never pulls a file from
under it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.domain.worker_threads import in_thread


async def test_the_result_and_the_error_of_the_work_come_back() -> None:
    assert await in_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await in_thread(divmod, 1, 0)


async def test_a_cancelled_caller_goes_on_only_once_the_thread_has_ended() -> None:
    started, release, ended = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        release.wait(10)
        ended.set()

    caller = asyncio.create_task(in_thread(work))
    assert await asyncio.to_thread(started.wait, 10)
    for _ in range(3):  # cancelled again while it waits, too
        caller.cancel()
        await asyncio.sleep(0.05)
    assert not caller.done()  # the thread still runs: the caller waits for it
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert ended.is_set()

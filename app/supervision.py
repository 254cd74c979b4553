"""Worker processes of a multi-process `backoffice serve` end when serve itself is gone.

uvicorn's supervisor stops its workers on a clean stop, but a `kill -9` of the supervisor
leaves them running, still holding the port, so a restarted serve could not bind it. Each
worker polls its parent and stops gracefully (SIGTERM to itself) once the parent is not serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

# Set by `serve` for its workers: the pid of the serve process that started them.
SUPERVISOR_PID_VARIABLE = "BACKOFFICE_SUPERVISOR_PID"
POLL_SECONDS = 1.0


def supervise_workers() -> None:
    """Called by serve before it starts several workers: they inherit the variable."""
    os.environ[SUPERVISOR_PID_VARIABLE] = str(os.getpid())


async def _stop_when_orphaned(supervisor: int) -> None:
    while os.getppid() == supervisor:  # noqa: ASYNC110 (no event tells of a dead parent)
        await asyncio.sleep(POLL_SECONDS)
    log.warning("serve is gone; this worker stops")
    os.kill(os.getpid(), signal.SIGTERM)


@contextlib.asynccontextmanager
async def stop_when_orphaned() -> AsyncIterator[None]:
    """In a worker started by serve: watch the parent while the app runs. Elsewhere: nothing."""
    supervisor = os.environ.get(SUPERVISOR_PID_VARIABLE, "")
    if not supervisor.isdigit() or int(supervisor) == os.getpid():
        yield
        return
    watch = asyncio.get_running_loop().create_task(_stop_when_orphaned(int(supervisor)))
    try:
        yield
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch

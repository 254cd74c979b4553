"""A webhook receiver on loopback for tests and the benchmark: records every POST, answers
500 to the first `fail_first` of them (or while `failing`), 204 otherwise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    status: int  # what the receiver answered


@dataclass
class Receiver:
    fail_first: int = 0
    failing: bool = False
    delay_seconds: float = 0.0
    posts: list[Received] = field(default_factory=list)
    url: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        status = 500 if self.failing or len(self.posts) < self.fail_first else 204
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.posts.append(Received(scope["path"], headers, body, time.time(), status))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def delivered(self) -> list[Received]:
        """The posts answered with success, in arrival order."""
        return [post for post in self.posts if post.status < 300]


@asynccontextmanager
async def receiving(receiver: Receiver, host: str = "127.0.0.1") -> AsyncIterator[Receiver]:
    """Serves `receiver` on a free port of `host`; its `url` is set while the block runs."""
    config = uvicorn.Config(receiver, host=host, port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn has no event for it)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/hooks"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task

"""Posting a delivery: httpx, connecting only to addresses the target policy allows.

The address check runs when a connection is opened, on the addresses then resolved, and the
connection goes to one of exactly those addresses (TLS still verifies the host name): a name
that resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
rebinding) cannot slip through. Redirects are not followed, proxies from the environment are
not used, and at most a little of a response is read.
"""

from __future__ import annotations

import asyncio
import time
import typing
from dataclasses import dataclass

import httpcore
import httpx

from app.domain.errors import InvalidInput
from app.domain.webhooks.targets import TargetPolicy, TargetRefused, allowed_addresses, parse_target

_MAX_RESPONSE_BYTES = 64 * 1024
_USER_AGENT = "backoffice-webhooks/1"


@dataclass(frozen=True, slots=True)
class Sent:
    status_code: int | None  # None: no response (see error)
    error: str | None  # why it failed, when the status code does not say it
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await allowed_addresses(host, port, self._policy)
        except TargetRefused as exc:
            raise httpcore.ConnectError(f"refused: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: TargetPolicy, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # The pool httpx made, rebuilt on the guarded backend (httpx takes no backend).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )


class Sender:
    """One connection pool for every delivery of a worker. Use as an async context."""

    def __init__(self, policy: TargetPolicy, *, timeout_seconds: float) -> None:
        self._policy = policy
        self._timeout = timeout_seconds
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(policy, limits),
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": _USER_AGENT, "Content-Type": "application/json"},
        )

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Sent:
        """POSTs the body within the timeout; never raises for what the receiver does."""
        started = time.perf_counter()
        try:
            parse_target(url, self._policy)  # https only in production, even for old rows
            async with asyncio.timeout(self._timeout):
                status_code = await self._post(url, body, headers)
        except (TimeoutError, httpx.TimeoutException):
            return self._failed(started, "timed out")
        except httpx.HTTPError as exc:
            return self._failed(started, str(exc) or type(exc).__name__)
        except InvalidInput as exc:
            return self._failed(started, f"not sent: the URL {exc.errors[0].detail}")
        except httpx.InvalidURL as exc:
            return self._failed(started, f"not sent: {exc}")
        return Sent(status_code, None, _elapsed_ms(started))

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        async with self._client.stream("POST", url, content=body, headers=headers) as response:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > _MAX_RESPONSE_BYTES:
                    break
            return response.status_code

    @staticmethod
    def _failed(started: float, error: str) -> Sent:
        return Sent(None, error[:200], _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)

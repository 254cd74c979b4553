"""Where webhooks may go: public addresses only, so a subscription cannot make the back office
call into its own network (SSRF: loopback, private ranges, link-local and the cloud metadata
address, IPv6 alike).

A URL is checked when a subscription is made or changed, and again before each delivery,
since a hostname may resolve elsewhere by then (DNS rebinding). Hosts an operator lists as
allowed skip the address check (a receiver on the same network; the tests' local receiver).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.domain.errors import invalid

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[Address]]]
_POINTER = "/url"
RESOLVE_SECONDS = 3.0


async def resolve(host: str, port: int) -> list[Address]:
    """Every address the host resolves to (empty when it does not within a few seconds)."""
    lookup = asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    try:
        found = await asyncio.wait_for(lookup, RESOLVE_SECONDS)
    except (TimeoutError, socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


class TargetRefused(Exception):
    """The host is not one webhooks may go to; the message says why."""


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    require_https: bool
    allowed_hosts: frozenset[str] = frozenset()  # lower-case host names or address literals
    resolver: Resolver = resolve


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int


def is_public(address: Address) -> bool:
    """Reachable on the internet: not loopback, private, link-local, shared, reserved or
    multicast (an IPv4 address mapped into IPv6 is judged as itself)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse_target(url: str, policy: TargetPolicy) -> Target:
    """The URL's host and port; InvalidInput (/url) for anything but a plain http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise invalid(_POINTER, "is not a valid URL") from exc
    allowed = ("https",) if policy.require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise invalid(_POINTER, f"must be an {' or '.join(allowed)} URL")
    if not parts.hostname:
        raise invalid(_POINTER, "must name a host")
    if parts.username is not None or parts.password is not None:
        raise invalid(_POINTER, "must not carry credentials (the signature proves the sender)")
    if parts.fragment:
        raise invalid(_POINTER, "must not have a fragment")
    return Target(parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80))


async def allowed_addresses(host: str, port: int, policy: TargetPolicy) -> list[str]:
    """Where a connection to the host may go: every address it resolves to, when all are
    public; the host itself when the policy allows it. TargetRefused saying why otherwise."""
    bare = host.strip("[]").lower()
    if bare in policy.allowed_hosts:
        return [bare]
    try:
        addresses: list[Address] = [ipaddress.ip_address(bare)]
    except ValueError:
        addresses = await policy.resolver(bare, port)
    if not addresses:
        raise TargetRefused("the host does not resolve")
    private = sorted({str(a) for a in addresses if not is_public(a)})
    if private:
        raise TargetRefused(
            f"resolves to an address that is not public ({', '.join(private)}): loopback, "
            "private, link-local and metadata addresses are refused"
        )
    return [str(a) for a in addresses]


async def check_target(url: str, policy: TargetPolicy) -> Target:
    """The URL's target, when every address its host resolves to is public (or the host is
    allowed); InvalidInput (/url) saying why not otherwise."""
    target = parse_target(url, policy)
    try:
        await allowed_addresses(target.host, target.port, policy)
    except TargetRefused as exc:
        raise invalid(_POINTER, str(exc)) from exc
    return target

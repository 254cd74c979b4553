"""Webhook targets: only public addresses, however the URL spells or resolves them (SSRF)."""

from __future__ import annotations

import ipaddress

import pytest

from app.domain.errors import InvalidInput
from app.domain.webhooks.targets import Address, TargetPolicy, check_target

PUBLIC = TargetPolicy(require_https=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.7/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.10/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
    ],
)
async def test_loopback_private_link_local_and_metadata_targets_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await check_target(url, PUBLIC)
    assert "not public" in refused.value.errors[0].detail


async def test_a_hostname_that_resolves_to_loopback_is_refused() -> None:
    async def rebinding(host: str, port: int) -> list[Address]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("127.0.0.1")]

    with pytest.raises(InvalidInput) as refused:
        await check_target(
            "https://rebind.example.com/hook", TargetPolicy(require_https=True, resolver=rebinding)
        )
    assert "127.0.0.1" in refused.value.errors[0].detail


async def test_a_public_target_is_accepted_and_an_allowed_host_skips_the_check() -> None:
    target = await check_target("https://93.184.215.14:8443/hook", PUBLIC)
    assert (target.host, target.port) == ("93.184.215.14", 8443)
    local = TargetPolicy(require_https=False, allowed_hosts=frozenset({"127.0.0.1"}))
    assert (await check_target("http://127.0.0.1:9000/hook", local)).port == 9000


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("ftp://93.184.215.14/hook", "https"),
        ("https://user:pw@93.184.215.14/hook", "credentials"),
        ("https:///hook", "host"),
        ("https://93.184.215.14/hook#frag", "fragment"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
async def test_urls_that_are_not_plain_public_https_say_why(url: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await check_target(url, PUBLIC)
    assert why in refused.value.errors[0].detail

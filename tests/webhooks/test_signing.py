"""Delivery signatures: what the Standard Webhooks spec computes, and what a receiver's check
refuses (a forged body, a wrong secret, an old timestamp)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.domain.webhooks.signing import (
    TOLERANCE_SECONDS,
    InvalidSignature,
    new_secret,
    sign,
    verify,
)

# The test vector published with the Standard Webhooks spec (and Svix's libraries).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
SPEC_BODY = b'{"test": 2432232314}'


def test_the_signature_is_the_one_the_spec_publishes() -> None:
    signed = sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert signed.signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signed.as_dict() == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": signed.signature,
    }


def test_a_receiver_accepts_a_fresh_payload_signed_with_its_secret() -> None:
    secret = new_secret()
    headers = sign(secret, "evt_1", 1_800_000_000, b'{"a":1}').as_dict()
    verify(secret, headers, b'{"a":1}', now=1_800_000_000 + TOLERANCE_SECONDS)
    rotated = {**headers, "webhook-signature": "v1,bm9wZQ== " + headers["webhook-signature"]}
    verify(secret, rotated, b'{"a":1}', now=1_800_000_000)  # any one signature suffices


SENT_AT = 1_800_000_000
BODY = b'{"a":1}'


@pytest.mark.parametrize(
    ("body", "header_changes", "now", "why"),
    [
        (b'{"a":2}', {}, SENT_AT, "no signature matches"),
        (BODY, {"webhook-id": "evt_2"}, SENT_AT, "no signature matches"),
        (BODY, {}, SENT_AT + TOLERANCE_SECONDS + 1, "too far"),
        (BODY, {}, SENT_AT - TOLERANCE_SECONDS - 1, "too far"),
        (BODY, {"webhook-timestamp": "soon"}, SENT_AT, "malformed"),
    ],
    ids=["forged-body", "other-id", "replayed-late", "from-the-future", "malformed"],
)
def test_a_forged_or_replayed_payload_fails_verification(
    body: bytes, header_changes: dict[str, str], now: int, why: str
) -> None:
    secret = new_secret()
    headers = sign(secret, "evt_1", SENT_AT, BODY).as_dict() | header_changes
    with pytest.raises(InvalidSignature, match=why):
        verify(secret, headers, body, now=now)


def test_a_payload_signed_with_another_secret_fails_verification() -> None:
    headers = sign(new_secret(), "evt_1", SENT_AT, BODY).as_dict()
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(new_secret(), headers, BODY, now=SENT_AT)


def _readme_verify() -> Callable[[str, dict[str, str], bytes], None]:
    """The verification snippet README.md gives receivers, as they would paste it."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    snippet = readme.split("A receiver verifies in a few lines")[1]
    code = snippet.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 (our own README)
    verify_: Callable[[str, dict[str, str], bytes], None] = namespace["verify"]
    return verify_


def test_the_readme_snippet_accepts_our_signature_and_refuses_forged_or_old_ones() -> None:
    readme_verify = _readme_verify()
    secret, body = new_secret(), b'{"id":"1-2","type":"stock.changed"}'
    now = int(time.time())
    readme_verify(secret, sign(secret, "1-2", now, body).as_dict(), body)
    with pytest.raises(ValueError, match="not signed"):
        readme_verify(secret, sign(secret, "1-2", now, body).as_dict(), body + b" ")
    with pytest.raises(ValueError, match="replayed"):
        readme_verify(secret, sign(secret, "1-2", now - 301, body).as_dict(), body)

"""Delivery signatures: what the Standard Webhooks spec computes, and what a receiver's check
refuses (a forged body, a wrong secret, an old timestamp)."""

from __future__ import annotations

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

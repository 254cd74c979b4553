"""Signing deliveries as the Standard Webhooks spec does (standardwebhooks.com), so receivers
can verify them with its libraries or a few lines of their own.

Each delivery carries `webhook-id` (the event's id: receivers drop repeats by it),
`webhook-timestamp` (Unix seconds) and `webhook-signature`: `v1,` and the base64 HMAC-SHA256,
keyed with the base64 part of the `whsec_` secret, of `<id>.<timestamp>.<body>`. A receiver
refuses a timestamp more than five minutes off its clock, which stops replays of old payloads.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import b64decode, b64encode
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 (a format, not a secret)
TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The payload was not signed with the secret, or not recently."""


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    webhook_id: str
    timestamp: int
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            "webhook-id": self.webhook_id,
            "webhook-timestamp": str(self.timestamp),
            "webhook-signature": self.signature,
        }


def new_secret() -> str:
    """32 random bytes, base64, with the `whsec_` prefix receivers' libraries expect."""
    return SECRET_PREFIX + b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def _signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> SignedHeaders:
    signature = _signature(secret, webhook_id, timestamp, body)
    return SignedHeaders(webhook_id, timestamp, f"v1,{signature}")


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: int) -> None:
    """What a receiver does; raises InvalidSignature unless one of the header's signatures
    is the secret's over this id, timestamp and body, and the timestamp is recent."""
    try:
        webhook_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        offered = headers["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("the webhook headers are missing or malformed") from exc
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("the timestamp is too far from now (a replay?)")
    expected = _signature(secret, webhook_id, timestamp, body)
    for candidate in offered:
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise InvalidSignature("no signature matches")

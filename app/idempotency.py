"""`Idempotency-Key` for create requests (draft-ietf-httpapi-idempotency-key-header).

Same key + same request -> the stored response is replayed; same key + another request -> 422;
same key while the first request is still running -> 409. Keys are scoped per caller and stored
in the transaction of the effect, so a rolled-back request leaves no key behind and may be retried.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import FastAPI, Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import idempotency as store
from app.domain.errors import BadRequest, Conflict, RuleViolation
from app.domain.identity.principal import Principal

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True, slots=True)
class PendingKey:
    caller: str
    key: str
    fingerprint: str
    expires_at: datetime


class IdempotentReplay(Exception):
    def __init__(self, status_code: int, body: bytes, headers: dict[str, str]) -> None:
        self.status_code, self.body, self.headers = status_code, body, headers


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """Same JSON content (whatever its key order or spacing) gives the same fingerprint."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


async def claim_idempotency_key(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    key: str | None,
) -> None:
    """Check the key before the effect runs; raises IdempotentReplay for a repeat."""
    if key is None:
        if principal.is_client:
            raise BadRequest(f"integration clients must send an {IDEMPOTENCY_HEADER} header")
        return
    if not _VALID_KEY.fullmatch(key):
        raise BadRequest(f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters")
    caller = principal.subject
    if not await store.try_lock_key(session, caller, key):
        raise Conflict(f"a request with this {IDEMPOTENCY_HEADER} is still being processed")
    fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
    record = await store.find_live_record(session, caller, key)
    if record is not None:
        if record.request_fingerprint != fingerprint:
            raise RuleViolation(
                f"this {IDEMPOTENCY_HEADER} was already used for a different request"
            )
        raise IdempotentReplay(record.status_code, record.response_body, record.response_headers)
    ttl = timedelta(hours=request.app.state.settings.idempotency_ttl_hours)
    request.state.idempotency = PendingKey(caller, key, fingerprint, datetime.now(UTC) + ttl)


async def record_response(request: Request, session: AsyncSession, response: Response) -> None:
    """Store a successful response under the pending key, in the request's transaction."""
    pending: PendingKey | None = getattr(request.state, "idempotency", None)
    if pending is None or not 200 <= response.status_code < 300:
        return
    headers = {k: v for k, v in response.headers.items() if k in _REPLAYED_HEADERS}
    await store.save_record(
        session,
        caller=pending.caller,
        key=pending.key,
        fingerprint=pending.fingerprint,
        status_code=response.status_code,
        body=bytes(response.body),
        headers=headers,
        expires_at=pending.expires_at,
    )


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return Response(
        content=exc.body,
        status_code=exc.status_code,
        headers={**exc.headers, REPLAYED_HEADER: "true"},
    )


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(IdempotentReplay, _replay)


# The key's syntax is documented but checked by claim_idempotency_key, not by FastAPI, so every
# malformed key gets the documented 400 (FastAPI's own check would answer 422 for some of them).
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Makes the create safe to retry; required for integration clients. "
        "1-255 visible ASCII characters.",
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": _VALID_KEY.pattern},
    ),
]

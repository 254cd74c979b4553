"""`Idempotency-Key` for create requests (draft-ietf-httpapi-idempotency-key-header).

Same key + same request -> the stored response is replayed; same key + another request -> 422;
same key while the first request is still running -> 409. Keys are scoped per caller and stored
in the transaction of the effect, so a rolled-back request leaves no key behind and may be retried.

A response marked `Cache-Control: no-store` (it shows a secret once) is recorded without its
body: a repeat gets 409 pointing at the created resource, never the secret a second time. The
stored fingerprint of a request is an HMAC under a server key, so it cannot be used to guess
what the request held (a password, say).
"""

from __future__ import annotations

import hashlib
import hmac
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
from app.http.problems import problem

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = ("content-type", "location", "etag", "cache-control")


@dataclass(frozen=True, slots=True)
class PendingKey:
    caller: str
    key: str
    fingerprint: str
    expires_at: datetime


class IdempotentReplay(Exception):
    def __init__(
        self, status_code: int, body: bytes, headers: dict[str, str], *, withheld: bool
    ) -> None:
        self.status_code, self.body, self.headers = status_code, body, headers
        self.withheld = withheld


def request_fingerprint(key: bytes, method: str, path: str, body: bytes) -> str:
    """Same JSON content (whatever its key order or spacing) gives the same fingerprint."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    mac = hmac.new(key, f"{method} {path}\n".encode(), hashlib.sha256)
    mac.update(canonical)
    return mac.hexdigest()


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
    fingerprint = request_fingerprint(
        request.app.state.pseudonym_key, request.method, request.url.path, await request.body()
    )
    record = await store.find_live_record(session, caller, key)
    if record is not None:
        if record.request_fingerprint != fingerprint:
            raise RuleViolation(
                f"this {IDEMPOTENCY_HEADER} was already used for a different request"
            )
        raise IdempotentReplay(
            record.status_code,
            record.response_body,
            record.response_headers,
            withheld=record.response_withheld,
        )
    ttl = timedelta(hours=request.app.state.settings.idempotency_ttl_hours)
    request.state.idempotency = PendingKey(caller, key, fingerprint, datetime.now(UTC) + ttl)


async def record_response(request: Request, session: AsyncSession, response: Response) -> None:
    """Store a successful response under the pending key, in the request's transaction."""
    pending: PendingKey | None = getattr(request.state, "idempotency", None)
    if pending is None or not 200 <= response.status_code < 300:
        return
    headers = {k: v for k, v in response.headers.items() if k in _REPLAYED_HEADERS}
    withheld = "no-store" in response.headers.get("cache-control", "")
    await store.save_record(
        session,
        caller=pending.caller,
        key=pending.key,
        fingerprint=pending.fingerprint,
        status_code=response.status_code,
        body=b"" if withheld else bytes(response.body),
        withheld=withheld,
        headers=headers,
        expires_at=pending.expires_at,
    )


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    if exc.withheld:
        headers = {k: v for k, v in exc.headers.items() if k == "location"}
        return problem(
            409,
            slug="already-processed",
            detail=f"this {IDEMPOTENCY_HEADER} was already used and its response showed a "
            "one-time secret, which is not kept; the resource is at Location",
            instance=request.url.path,
            headers={**headers, REPLAYED_HEADER: "true"},
        )
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

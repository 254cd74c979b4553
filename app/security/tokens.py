"""Access tokens: the only module that touches python-jose.

Hardened on purpose: one algorithm fixed by configuration (never taken from the token), the key
id must be ours, `exp`/`iat`/`iss`/`aud`/`sub` are required and checked, a `crit` header (an
extension we would have to understand) is refused, and oversized tokens are refused before any
parsing.

Verifying a signature costs about as much as the rest of a request, so verified tokens are kept
in a bounded in-process cache, keyed by the exact token text and never used past the token's
`exp`. Revocation is not this module's business: each token carries the holder's token
generation (`gen`), which the caller compares with the current one on every request.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from jose.exceptions import JWSError

MAX_TOKEN_BYTES = 4096
_LEEWAY_SECONDS = 30  # clock skew between servers
_REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
DEFAULT_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class SigningKey:
    algorithm: str  # "HS256" or "RS256"
    signing_key: str
    verification_key: str

    @property
    def kid(self) -> str:
        return hashlib.sha256(self.verification_key.encode()).hexdigest()[:16]


class InvalidToken(Exception):
    """The token is not one of ours, or no longer valid. `detail` is safe to show."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified access token says about its holder."""

    subject: str
    roles: tuple[str, ...]
    generation: int  # the holder's token generation when the token was issued
    expires_at: float  # `exp`, seconds since 1970


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenService:
    def __init__(
        self,
        key: SigningKey,
        *,
        issuer: str,
        audience: str,
        ttl: timedelta,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._cache_size = cache_size
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self,
        subject: str,
        roles: Iterable[str],
        generation: int,
        now: datetime | None = None,
    ) -> IssuedToken:
        now = now or datetime.now(UTC)
        claims = {
            "sub": subject,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "roles": sorted(roles),
            "gen": generation,
        }
        token = jwt.encode(
            claims,
            self._key.signing_key,
            algorithm=self._key.algorithm,
            headers={"kid": self._key.kid},
        )
        return IssuedToken(token=token, expires_in=int(self._ttl.total_seconds()))

    def verify(self, token: str) -> TokenClaims:
        """The claims of a token this server issued and that is still valid; else InvalidToken."""
        known = self._verified.get(token)
        if known is not None:
            if time.time() <= known.expires_at + _LEEWAY_SECONDS:
                return known
            del self._verified[token]
            raise InvalidToken("the access token is invalid or expired")
        claims = self._claims_of(self._verified_claims(token))
        if len(self._verified) >= self._cache_size:
            # Oldest entry first (dicts keep insertion order): most likely expired anyway.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims

    @staticmethod
    def _claims_of(claims: dict[str, Any]) -> TokenClaims:
        roles, generation = claims.get("roles"), claims.get("gen")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidToken("the token's roles are not valid")
        if type(generation) is not int or generation < 0:
            raise InvalidToken("the token's generation is not valid")
        return TokenClaims(
            subject=str(claims["sub"]),
            roles=tuple(roles),
            generation=generation,
            expires_at=float(claims["exp"]),
        )

    def _verified_claims(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("the access token is too large")
        try:
            header = jwt.get_unverified_header(token)
        except (JWTError, JWSError) as exc:
            raise InvalidToken("the access token is malformed") from exc
        if header.get("alg") != self._key.algorithm or header.get("kid") != self._key.kid:
            raise InvalidToken("the access token was not issued by this server")
        if "crit" in header:
            # RFC 7515 4.1.11: extensions listed in `crit` must be understood; we know none.
            raise InvalidToken("the access token requires extensions this server does not know")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.verification_key,
                algorithms=[self._key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={f"require_{claim}": True for claim in _REQUIRED_CLAIMS}
                | {"leeway": _LEEWAY_SECONDS},
            )
        except (JWTError, JWSError) as exc:
            raise InvalidToken("the access token is invalid or expired") from exc
        self._check_lifetime(claims)
        return claims

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """Defence in depth: no token from the future, none living longer than we issue."""
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise InvalidToken("the access token's times are not valid")
        now = datetime.now(UTC).timestamp()
        if iat > now + _LEEWAY_SECONDS or exp - iat > self._ttl.total_seconds() + _LEEWAY_SECONDS:
            raise InvalidToken("the access token's lifetime is not one we issue")

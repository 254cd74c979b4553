"""Access tokens: the only module that touches python-jose.

Hardened on purpose: one algorithm fixed by configuration (never taken from the token), the key
id must be ours, `exp`/`iat`/`iss`/`aud`/`sub` are required and checked, and oversized tokens are
refused before any parsing.
"""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenService:
    def __init__(self, key: SigningKey, *, issuer: str, audience: str, ttl: timedelta) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

    def issue(self, subject: str, roles: Iterable[str], now: datetime | None = None) -> IssuedToken:
        now = now or datetime.now(UTC)
        claims = {
            "sub": subject,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "roles": sorted(roles),
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
        claims = self._verified_claims(token)
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidToken("the token's roles are not valid")
        return TokenClaims(subject=str(claims["sub"]), roles=tuple(roles))

    def _verified_claims(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("the access token is too large")
        try:
            header = jwt.get_unverified_header(token)
        except (JWTError, JWSError) as exc:
            raise InvalidToken("the access token is malformed") from exc
        if header.get("alg") != self._key.algorithm or header.get("kid") != self._key.kid:
            raise InvalidToken("the access token was not issued by this server")
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

"""Who is calling: a person (user) or a machine (integration client)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import AuthenticationFailed
from app.domain.identity.roles import permissions_of
from app.security.tokens import DEFAULT_CACHE_SIZE, InvalidToken, TokenClaims, TokenService


class PrincipalKind(StrEnum):
    user = "user"
    client = "client"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: uuid.UUID
    roles: frozenset[str]
    permissions: frozenset[str]
    # The holder's token generation this principal was authenticated with (see revocation.py).
    token_generation: int = 0

    @property
    def subject(self) -> str:
        """The token `sub` and the audit log's actor: `user:<uuid>` or `client:<uuid>`."""
        return f"{self.kind}:{self.id}"

    @property
    def is_client(self) -> bool:
        return self.kind is PrincipalKind.client

    def has(self, permission: str) -> bool:
        return permission in self.permissions


@functools.lru_cache(maxsize=DEFAULT_CACHE_SIZE)
def principal_from_claims(claims: TokenClaims) -> Principal:
    """The caller a verified token names: `user:<uuid>` or `client:<uuid>` in canonical form.

    Memoized: verified claims are themselves cached per token, so each token is parsed once."""
    kind, _, ident = claims.subject.partition(":")
    try:
        principal_kind = PrincipalKind(kind)
        principal_id = uuid.UUID(ident)
    except ValueError as exc:
        raise AuthenticationFailed("the token's subject is not valid") from exc
    if str(principal_id) != ident:  # only the canonical form we issue (no urn:, braces, hex)
        raise AuthenticationFailed("the token's subject is not valid")
    roles = frozenset(claims.roles)
    return Principal(principal_kind, principal_id, roles, permissions_of(roles), claims.generation)


def authenticate(tokens: TokenService, token: str) -> Principal:
    """The caller behind a bearer access token; AuthenticationFailed when it is not valid.

    Whether the token was revoked since is for revocation.confirm_for_read/-_write to say."""
    try:
        claims = tokens.verify(token)
    except InvalidToken as exc:
        raise AuthenticationFailed(exc.detail) from exc
    return principal_from_claims(claims)

"""Losing access takes effect at once, in every process.

Every access token carries its holder's token generation. The database bumps the generation,
and revokes the holder's refresh tokens, whenever access is lost: deactivation, a role change,
a new password or client secret, a sign-out everywhere (triggers and `auth_revoke_tokens`, see
the migration that added `auth_principal`). A token whose generation is not the current one is
refused.

- Requests that change something check in their own transaction, after waiting for any
  revocation of the same holder in progress, and hold it off until they commit: no change is
  ever authorised by a token that a committed revocation covers.
- Requests that only read check against a cache of current generations, kept exact by the
  database's notification of every revocation (heard by each process on commit), and fall back
  to the database whenever the cache cannot vouch for a holder.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.repositories import identity as repo
from app.domain.errors import AuthenticationFailed
from app.domain.identity.principal import Principal, PrincipalKind

CHANNEL = "auth_tokens_revoked"
DEFAULT_CAPACITY = 100_000


class GenerationCache:
    """Current token generations of recent callers, trusted only while this process hears every
    revocation. Entries only ever move up, so a late read of an older value cannot undo news of
    a revocation; `epoch` tells a loader whether the cache was reset while it read."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._generations: dict[str, int] = {}  # by subject, `user:<id>` or `client:<id>`
        self._trusted = False
        self.epoch = 0

    def listening(self) -> None:
        """Every revocation from now on will be heard; what was known before may be stale."""
        self._reset()
        self._trusted = True

    def lost(self) -> None:
        """Revocations may go unheard: vouch for nobody until listening again."""
        self._trusted = False
        self._reset()

    def heard(self, payload: str) -> None:
        """A revocation committed: `<subject> <new generation>`."""
        subject, _, generation = payload.partition(" ")
        try:
            kind, _, ident = subject.partition(":")
            PrincipalKind(kind)
            uuid.UUID(ident)
            self._raise(subject, int(generation))
        except ValueError:
            self._reset()  # not a message of ours: trust no entry rather than guess

    @property
    def trusted(self) -> bool:
        return self._trusted

    def current(self, subject: str) -> int | None:
        return self._generations.get(subject) if self._trusted else None

    def learn(self, subject: str, generation: int, epoch: int) -> None:
        """Remember a generation read from the database when this cache's `epoch` was `epoch`."""
        if self._trusted and epoch == self.epoch:
            self._raise(subject, generation)

    def _raise(self, subject: str, generation: int) -> None:
        if subject not in self._generations and len(self._generations) >= self._capacity:
            self._reset()
        self._generations[subject] = max(generation, self._generations.get(subject, 0))

    def _reset(self) -> None:
        self._generations.clear()
        self.epoch += 1


def _require(current: int | None, principal: Principal) -> None:
    if current is None:
        raise AuthenticationFailed("the access token's holder does not exist")
    if current != principal.token_generation:
        raise AuthenticationFailed("the access token was revoked; sign in again")


async def confirm_for_read(
    reader: AsyncConnection, cache: GenerationCache, principal: Principal
) -> None:
    """Refuses a revoked token, mostly without a database round trip."""
    known = cache.current(principal.subject)
    if known == principal.token_generation:
        return
    if known is not None and known > principal.token_generation:
        raise AuthenticationFailed("the access token was revoked; sign in again")
    # Unknown here, or a token newer than the news this process has heard: ask the database.
    epoch = cache.epoch
    current = await repo.token_generation(reader, principal.id, principal.kind)
    _require(current, principal)
    assert current is not None
    cache.learn(principal.subject, current, epoch)


async def confirm_for_write(session: AsyncSession, principal: Principal) -> None:
    """Refuses a revoked token inside the request's transaction, and keeps the holder's tokens
    from being revoked until that transaction ends."""
    _require(await repo.lock_token_generation(session, principal.id, principal.kind), principal)


async def revoke_all_tokens(session: AsyncSession, principal_id: uuid.UUID) -> None:
    """Sign out everywhere: every access and refresh token of the holder stops working."""
    await repo.revoke_tokens(session, principal_id)

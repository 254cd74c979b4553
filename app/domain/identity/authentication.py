"""Signing in: passwords and client secrets, refresh-token rotation, brute-force throttling.

Failed attempts return None instead of raising, so the caller commits the failure count and
the revocation of a replayed refresh-token family; both must survive the refused request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models.identity import Client, RefreshToken, User
from app.db.repositories import identity as repo
from app.domain.errors import RateLimited
from app.domain.identity.principal import Principal, PrincipalKind
from app.domain.identity.roles import permissions_of
from app.domain.identity.users import normalize_email
from app.security.passwords import verify_secret

# A shared office address sees many people's typos: it gets more room than one account.
SOURCE_LIMIT_FACTOR = 4
REUSE_GRACE = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int
    window: timedelta
    refresh_ttl: timedelta
    pseudonym_key: bytes  # keys the throttle's digests of e-mails and addresses


@dataclass(frozen=True, slots=True)
class SignedIn:
    principal: Principal
    refresh_token: str | None = None


async def _principal(
    session: AsyncSession, kind: PrincipalKind, principal_id: uuid.UUID, roles: frozenset[str]
) -> Principal:
    """The principal a new access token is issued for, with its current token generation."""
    generation = await repo.token_generation(await session.connection(), principal_id, kind)
    if generation is None:  # the holder's row exists, so its principal does (foreign key)
        raise LookupError(f"no principal row for {kind}:{principal_id}")
    return Principal(kind, principal_id, roles, permissions_of(roles), generation)


async def user_principal(session: AsyncSession, user: User) -> Principal:
    return await _principal(session, PrincipalKind.user, user.id, frozenset(user.roles))


async def client_principal(session: AsyncSession, client: Client) -> Principal:
    return await _principal(session, PrincipalKind.client, client.id, frozenset({client.role}))


def _source_limit(policy: LoginPolicy) -> int:
    return policy.max_failures * SOURCE_LIMIT_FACTOR


def _throttle_key(policy: LoginPolicy, kind: str, value: str) -> str:
    # A keyed digest: the throttle table holds no e-mail or IP address, not even one that could
    # be recovered by hashing guesses.
    return hmac.new(policy.pseudonym_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _check_throttle(
    session: AsyncSession, policy: LoginPolicy, limits: dict[str, int], now: datetime
) -> None:
    """Refuses the attempt while any of its counters (key -> limit) is at its limit."""
    # Counters are checked and counted under locks, taken in one order (no deadlocks).
    for key in sorted(limits):
        await repo.serialize_attempts(session, key)
    for state in await repo.throttle_states(session, list(limits)):
        window_end = state.window_started_at + policy.window
        if state.failures >= limits[state.key] and window_end > now:
            retry_after = max(1, int((window_end - now).total_seconds()))
            raise RateLimited("too many failed sign-in attempts; try again later", retry_after)


async def _count_failure(
    session: AsyncSession, policy: LoginPolicy, keys: list[str], now: datetime
) -> None:
    for key in keys:
        await repo.count_login_failure(session, key, now, now - policy.window)


async def sign_in_user(
    session: AsyncSession, policy: LoginPolicy, *, email: str, password: str, source: str
) -> SignedIn | None:
    """Password grant. An unknown e-mail, a wrong password and an inactive account look alike."""
    now = datetime.now(UTC)
    account_key = _throttle_key(policy, "account", normalize_email(email))
    source_key = _throttle_key(policy, "source", source)
    limits = {account_key: policy.max_failures, source_key: _source_limit(policy)}
    await _check_throttle(session, policy, limits, now)
    user = await repo.get_user_by_email(session, normalize_email(email))
    known = user is not None and user.is_active
    if not await verify_secret(password, user.password_hash if user and known else None):
        await _count_failure(session, policy, [account_key, source_key], now)
        return None
    assert user is not None
    await repo.clear_login_failures(session, account_key)
    refresh = await _issue_refresh_token(session, policy, user.id, family_id=uuid.uuid4())
    return SignedIn(await user_principal(session, user), refresh)


async def sign_in_client(
    session: AsyncSession, policy: LoginPolicy, *, client_id: str, secret: str, source: str
) -> SignedIn | None:
    """Client-credentials grant; machines get no refresh token (they hold their secret).

    Only the guessing source is throttled, never the client: a secret has 256 random bits, so
    counting failures per client would only let anyone who knows a client_id lock it out."""
    now = datetime.now(UTC)
    source_key = _throttle_key(policy, "source", source)
    await _check_throttle(session, policy, {source_key: _source_limit(policy)}, now)
    try:
        client = await repo.load_client(session, uuid.UUID(client_id))
    except ValueError:
        client = None
    usable = client is not None and client.is_active
    if not await verify_secret(secret, client.secret_hash if client and usable else None):
        await _count_failure(session, policy, [source_key], now)
        return None
    assert client is not None
    return SignedIn(await client_principal(session, client))


async def _issue_refresh_token(
    session: AsyncSession, policy: LoginPolicy, user_id: uuid.UUID, family_id: uuid.UUID
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            family_id=family_id,
            user_id=user_id,
            token_hash=_token_hash(token),
            expires_at=datetime.now(UTC) + policy.refresh_ttl,
        )
    )
    await session.flush()
    return token


async def rotate_refresh_token(
    session: AsyncSession, policy: LoginPolicy, token: str
) -> SignedIn | None:
    """Single use: a spent token presented again revokes its whole family (it was stolen,
    or the legitimate holder's copy was), and every later use of that family fails.

    Within REUSE_GRACE of its use, a second presentation is refused without revoking: that is
    two tabs refreshing at once or a client retrying after a timeout, not theft; the refusal
    hands out nothing, so an attacker gains nothing from the grace either."""
    stored = await repo.find_refresh_token_for_update(session, _token_hash(token))
    if stored is None or stored.revoked_at is not None:
        return None
    now = datetime.now(UTC)
    if stored.used_at is not None:
        if now - stored.used_at >= REUSE_GRACE:
            await repo.revoke_refresh_family(session, stored.family_id)
        return None
    if stored.expires_at <= now:
        return None
    user = await repo.load_user(session, stored.user_id)
    if user is None or not user.is_active:
        return None
    stored.used_at = func.now()
    refresh = await _issue_refresh_token(session, policy, user.id, stored.family_id)
    return SignedIn(await user_principal(session, user), refresh)


async def sign_out(session: AsyncSession, principal: Principal, token: str) -> None:
    """Revokes the family of the given refresh token when it is the caller's own (refresh
    tokens belong to people; a client never owns one)."""
    if principal.kind is not PrincipalKind.user:
        return
    stored = await repo.find_refresh_token_for_update(session, _token_hash(token))
    if stored is not None and stored.user_id == principal.id:
        await repo.revoke_refresh_family(session, stored.family_id)

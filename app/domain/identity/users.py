"""People who sign in: creation, changes, role assignment, deactivation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.keyset import PageRequest
from app.db.models.identity import User, UserRole
from app.db.repositories import identity as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound, RuleViolation
from app.domain.identity.roles import ROLES, HolderKind
from app.security.passwords import hash_secret

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    display_name: str
    password: str
    roles: list[str]
    id: uuid.UUID | None = None
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class UserChanges:
    """Only the fields that are not None change."""

    display_name: str | None = None
    is_active: bool | None = None
    roles: list[str] | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def checked_user_roles(roles: list[str]) -> list[str]:
    """Roles a person may hold: known, and not one of the integration-client roles."""
    for name in roles:
        role = ROLES.get(name)
        if role is None or role.holder is not HolderKind.user:
            raise RuleViolation(f"{name!r} is not a role a user can hold")
    return sorted(set(roles))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "is_active": user.is_active,
        "roles": user.roles,
        "employee_id": str(user.employee_id) if user.employee_id else None,
    }


async def list_users(session: AsyncSession, page: PageRequest) -> tuple[Sequence[User], str | None]:
    return await repo.list_users(session, page)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repo.get_user(session, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


async def create_user(session: AsyncSession, actor: Actor, new: NewUser) -> User:
    """Emails are unique (case-insensitively); the password is stored only as an argon2 hash."""
    email = normalize_email(new.email)
    roles = checked_user_roles(new.roles)
    check_password(new.password)
    user_id = new.id or uuid.uuid4()
    if await repo.user_exists(session, user_id, email):
        raise Conflict("a user with this id or e-mail address already exists")
    user = User(
        id=user_id,
        email=email,
        display_name=new.display_name.strip(),
        password_hash=await hash_secret(new.password),
        is_active=new.is_active,
        role_rows=[UserRole(role=r) for r in roles],
    )
    session.add(user)
    await session.flush()
    await record_change(
        session,
        actor,
        action="user.create",
        resource_type="user",
        resource_id=user.id,
        before=None,
        after=user_snapshot(user),
    )
    return await get_user(session, user.id)


async def update_user(
    session: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    expected: ExpectedVersion,
    changes: UserChanges,
) -> User:
    """Deactivating a user also revokes their refresh tokens (access tokens run out by `exp`)."""
    user = await get_user(session, user_id)
    expected.check(user.version)
    before = user_snapshot(user)
    if changes.display_name is not None:
        user.display_name = changes.display_name.strip()
    if changes.is_active is not None:
        user.is_active = changes.is_active
    if changes.roles is not None:
        user.role_rows = [UserRole(role=r) for r in checked_user_roles(changes.roles)]
    after = user_snapshot(user)
    if after == before:
        return user
    # Touch the row itself, so role-only changes bump `version` and `updated_at` too.
    user.updated_at = func.now()
    if user.is_active is False:
        await repo.revoke_refresh_tokens_of_user(session, user.id)
    await session.flush()
    await record_change(
        session,
        actor,
        action="user.update",
        resource_type="user",
        resource_id=user.id,
        before=before,
        after=after,
    )
    session.expire(user)
    return await get_user(session, user_id)


async def set_password(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, password: str
) -> None:
    """A new password ends every signed-in session of the user (refresh tokens revoked)."""
    check_password(password)
    user = await get_user(session, user_id)
    user.password_hash = await hash_secret(password)
    await repo.revoke_refresh_tokens_of_user(session, user.id)
    await session.flush()
    await record_change(
        session,
        actor,
        action="user.password_set",
        resource_type="user",
        resource_id=user.id,
        before=None,
        after=None,
    )

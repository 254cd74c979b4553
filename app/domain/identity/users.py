"""People who sign in: creation, changes, role assignment, deactivation, passwords.

Losing access (deactivation, other roles, a new password) revokes the person's tokens at once;
the database does it (see revocation.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.identity import User, UserRole
from app.db.repositories import identity as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound, RuleViolation
from app.domain.identity.principal import PrincipalKind
from app.domain.identity.roles import ROLES, HolderKind
from app.security.passwords import hash_secret

MIN_PASSWORD_LENGTH = 12
_UPDATE = AuditedChange("user.update", "user")


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


async def list_users(
    reader: AsyncConnection, page: PageRequest
) -> tuple[list[dict[str, Any]], str | None]:
    return await repo.user_rows(reader, page)


async def get_user(reader: AsyncConnection, user_id: uuid.UUID) -> Mapping[str, Any]:
    """The user with its roles, read in one statement."""
    row = await repo.user_row(reader, user_id)
    if row is None:
        raise NotFound("no such user")
    return row


async def _load_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repo.load_user(session, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


async def create_user(session: AsyncSession, actor: Actor, new: NewUser) -> User:
    """E-mails are unique (case-insensitively), ids unique across people and clients; the
    password is stored only as an argon2 hash."""
    roles = checked_user_roles(new.roles)
    check_password(new.password)
    user = User(
        id=new.id or uuid.uuid4(),
        email=normalize_email(new.email),
        display_name=new.display_name.strip(),
        password_hash=await hash_secret(new.password),
        is_active=new.is_active,
        role_rows=[UserRole(role=r) for r in roles],
    )
    try:
        await repo.add_principal(session, user.id, PrincipalKind.user)
        session.add(user)
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("a user or client with this id, or a user with this e-mail, exists") from exc
    await record_change(
        session,
        actor,
        action="user.create",
        resource_type="user",
        resource_id=user.id,
        before=None,
        after=user_snapshot(user),
    )
    return user


async def update_user(
    session: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    expected: ExpectedVersion,
    changes: UserChanges,
) -> User:
    """Deactivating a user or changing their roles ends their sessions and access tokens."""
    user = await _load_user(session, user_id)
    roles = checked_user_roles(changes.roles) if changes.roles is not None else None

    def apply(target: User) -> None:
        if changes.display_name is not None:
            target.display_name = changes.display_name.strip()
        if changes.is_active is not None:
            target.is_active = changes.is_active
        if roles is not None and roles != target.roles:
            target.role_rows = [UserRole(role=r) for r in roles]

    await apply_audited_change(
        session, actor, user, expected=expected, snapshot=user_snapshot, apply=apply, change=_UPDATE
    )
    return user


async def set_password(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, password: str
) -> None:
    """A new password ends every signed-in session of the user, and their access tokens."""
    check_password(password)
    user = await _load_user(session, user_id)
    user.password_hash = await hash_secret(password)
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

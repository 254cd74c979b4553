"""People, integration clients, their roles, refresh tokens and login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, Timestamps


class Principal(Base):
    """Everyone who can hold a token, people and clients in one id space, with the generation
    their access tokens must carry.

    The database bumps the generation (and revokes refresh tokens) whenever a holder loses
    access: a deactivation, a role change, a new password or client secret, a sign-out
    everywhere. See the migration that creates this table for the functions and triggers.
    """

    __tablename__ = "auth_principal"
    __table_args__ = (CheckConstraint("kind IN ('user', 'client')", name="known_kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    token_generation: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(Timestamps, Base):
    __tablename__ = "auth_user"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index(None, "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_principal.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    employee_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(server_default=text("1"))

    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    # eager_defaults: server-set columns (updated_at) come back by RETURNING, no re-read.
    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012

    @property
    def roles(self) -> list[str]:
        return [r.role for r in self.role_rows]


class UserRole(Base):
    __tablename__ = "auth_user_role"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(50), primary_key=True)


class Client(Timestamps, Base):
    """A machine caller (the webshop, a reception tablet) using client credentials."""

    __tablename__ = "auth_client"
    __table_args__ = (Index(None, "updated_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_principal.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(50))
    secret_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))

    # eager_defaults: server-set columns (updated_at) come back by RETURNING, no re-read.
    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class RefreshToken(Base):
    """One link of a rotation chain; only the SHA-256 of the opaque token is stored."""

    __tablename__ = "auth_refresh_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins per account and per source address, keyed by a hash (no personal data)."""

    __tablename__ = "auth_login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime]

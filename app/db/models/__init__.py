"""All models, imported here so that `Base.metadata` is complete for Alembic."""

from app.db.models.api import IdempotencyRecord
from app.db.models.audit import AuditEvent
from app.db.models.identity import (
    Client,
    LoginThrottle,
    Principal,
    RefreshToken,
    User,
    UserRole,
)

__all__ = [
    "AuditEvent",
    "Client",
    "IdempotencyRecord",
    "LoginThrottle",
    "Principal",
    "RefreshToken",
    "User",
    "UserRole",
]

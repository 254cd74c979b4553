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
from app.db.models.partners import Partner, PartnerExternalId

__all__ = [
    "AuditEvent",
    "Client",
    "IdempotencyRecord",
    "LoginThrottle",
    "Partner",
    "PartnerExternalId",
    "Principal",
    "RefreshToken",
    "User",
    "UserRole",
]

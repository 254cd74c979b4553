"""All models, imported here so that `Base.metadata` is complete for Alembic."""

from app.db.models.api import IdempotencyRecord

__all__ = ["IdempotencyRecord"]

"""Tables of the API machinery itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, LargeBinary, SmallInteger, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class IdempotencyRecord(Base):
    """The stored response of a create request, replayed when the same key comes again."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (Index(None, "expires_at"),)

    caller: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    # True for `Cache-Control: no-store` responses (one-time secrets): their body is not kept.
    response_withheld: Mapped[bool] = mapped_column(server_default=text("false"))
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

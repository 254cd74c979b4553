"""The outbox: every change that clients mirror, written in the transaction of the change.

`position` orders the events of one transaction; `txid` (the writing transaction's id) orders
transactions. A reader returns only events of transactions that ended before every transaction
still running (the snapshot's xmin horizon), so an event that commits late can never land
behind a position a reader has already passed. See app/db/repositories/events.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, Uuid, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

# The writing transaction's 64-bit id (xid8, which never wraps around), kept as a bigint so that
# every driver and index handles it natively.
CURRENT_TXID = text("(pg_current_xact_id()::text)::bigint")


class OutboxEvent(Base):
    __tablename__ = "events_outbox"
    __table_args__ = (Index(None, "txid", "position"),)

    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=CURRENT_TXID)
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[uuid.UUID]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The integration clients an owner-restricted event belongs to (their orders, their
    # customers); NULL: every caller allowed to read the type sees it.
    owner_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))

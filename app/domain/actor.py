"""Who makes a change, as the audit log records it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    subject: str  # `user:<uuid>`, `client:<uuid>` or `system:<name>`
    request_id: str | None = None


CLI_ACTOR = Actor("system:cli")

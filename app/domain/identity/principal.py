"""Who is calling: a person (user) or a machine (integration client)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    user = "user"
    client = "client"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: uuid.UUID
    roles: frozenset[str]
    permissions: frozenset[str]

    @property
    def subject(self) -> str:
        """The token `sub` and the audit log's actor: `user:<uuid>` or `client:<uuid>`."""
        return f"{self.kind}:{self.id}"

    @property
    def is_client(self) -> bool:
        return self.kind is PrincipalKind.client

    def has(self, permission: str) -> bool:
        return permission in self.permissions

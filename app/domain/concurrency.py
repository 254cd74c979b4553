"""Optimistic concurrency: which versions of a resource the caller's update was based on."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import PreconditionFailed


@dataclass(frozen=True, slots=True)
class ExpectedVersion:
    """None = no precondition (no If-Match), else the versions the caller accepts."""

    versions: frozenset[int] | None = None

    def check(self, current: int) -> None:
        if self.versions is not None and current not in self.versions:
            raise PreconditionFailed(
                f"the resource changed (now version {current}); fetch it again and retry"
            )

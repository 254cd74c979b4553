"""Errors the domain raises. They say *what* went wrong; app/errors.py decides the HTTP status."""

from __future__ import annotations

from dataclasses import asdict, dataclass


class DomainError(Exception):
    """A rule refused the request. `detail` is safe to show to the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extensions(self) -> dict[str, object]:
        """Members the problem document carries besides `detail` (JSON-ready values)."""
        return {}


class NotFound(DomainError):
    """The resource does not exist, or the caller may not know that it does."""


class Conflict(DomainError):
    """The request conflicts with the current state (duplicate, request still in flight...)."""


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    warehouse_id: str
    requested: str  # decimal strings, as quantities are on the wire
    available: str


class InsufficientStock(Conflict):
    """Not enough available stock; nothing was booked or reserved."""

    def __init__(self, detail: str, shortages: list[Shortage]) -> None:
        super().__init__(detail)
        self.shortages = shortages

    def extensions(self) -> dict[str, object]:
        return {"shortages": [asdict(s) for s in self.shortages]}


class ReferenceConflict(Conflict):
    """The body names a record that does not exist or cannot take part (a deactivated
    warehouse, a line the order does not have): the request conflicts with the stored state,
    as a foreign key violation does. `errors` point at the fields."""

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail)
        self.errors = errors

    def extensions(self) -> dict[str, object]:
        return {
            "errors": [{k: v for k, v in asdict(e).items() if v is not None} for e in self.errors]
        }


def invalid(pointer: str, detail: str) -> InvalidInput:
    """One bad body field, named by its JSON Pointer."""
    return InvalidInput(f"{pointer.lstrip('/')}: {detail}", [FieldError(detail, pointer=pointer)])


def missing(pointer: str, detail: str) -> ReferenceConflict:
    return ReferenceConflict(
        f"{pointer.lstrip('/')}: {detail}", [FieldError(detail, pointer=pointer)]
    )


class RuleViolation(DomainError):
    """The request is well-formed but breaks a business rule."""


class PreconditionFailed(DomainError):
    """The caller's copy is stale (If-Match did not match the current version)."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class AuthenticationFailed(DomainError):
    """No valid credentials. `error` is the RFC 6750 error code for WWW-Authenticate."""

    def __init__(self, detail: str, error: str | None = "invalid_token") -> None:
        super().__init__(detail)
        self.error = error


class RateLimited(DomainError):
    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad value: `pointer` is a JSON Pointer into the body, or `parameter` names a
    query/path/header parameter."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None


class InvalidInput(DomainError):
    """Input that passed schema validation but is still unusable (bad cursor, bad header...)."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class BadRequest(DomainError):
    """The request cannot be processed as sent (missing required header, malformed header)."""


class Unavailable(DomainError):
    """A dependency (the database, its schema) is not ready; the caller should retry later."""

"""RFC 9457 problem details, as documented in the contract."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="URI reference naming the problem type")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path")
    request_id: str | None = None


class ProblemFieldError(BaseModel):
    detail: str
    pointer: str | None = Field(default=None, description="JSON Pointer into the request body")
    parameter: str | None = Field(default=None, description="Name of a query/path/header value")


class ValidationProblem(Problem):
    errors: list[ProblemFieldError] = []


# RFC 6749 5.2 error codes, exactly those the token endpoint returns.
TokenErrorCode = Literal[
    "invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"
]


class TokenProblem(Problem):
    """A token-endpoint error: RFC 6749's error response inside an RFC 9457 problem document,
    so OAuth2 clients and problem-aware clients both read it."""

    error: TokenErrorCode = Field(description="RFC 6749 5.2 error code")
    error_description: str = Field(description="Human-readable explanation (RFC 6749 5.2)")

"""RFC 9457 problem details, as documented in the contract."""

from __future__ import annotations

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

"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.db.migrations import current_revisions
from app.domain.errors import Unavailable
from app.errors import problem_responses
from app.schemas.health import Liveness, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health_get_liveness", response_model=Liveness)
async def health_get_liveness() -> Liveness:
    """The process is up. Never touches the database."""
    return Liveness()


@router.get(
    "/readyz",
    operation_id="health_get_readiness",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def health_get_readiness(request: Request) -> Readiness:
    """The database answers and its schema is at the migrations' head."""
    current = await current_revisions(request.app.state.db.engine)
    if current is None:
        raise Unavailable("the database has no schema yet: run `backoffice migrate`")
    expected = request.app.state.schema_heads
    if current != expected:
        raise Unavailable(
            f"the schema is at {sorted(current)}, the code expects {sorted(expected)}"
        )
    return Readiness(schema_revision=",".join(sorted(current)))

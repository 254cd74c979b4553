"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.domain.readiness import schema_revision
from app.http.problems import problem_responses
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
    revision = await schema_revision(request.app.state.db, request.app.state.schema_heads)
    return Readiness(schema_revision=revision)

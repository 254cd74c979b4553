"""The audit log, for auditors and admins (permission `audit:read`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from app.domain.audit.service import list_events
from app.http.conditional import cached_json
from app.http.dependencies import PageParams, ReaderDep, require
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.audit import AuditEventRead
from app.schemas.common import LINE_PATTERN, Instant, Page

router = AreaRouter(prefix="/api/v1/audit", tags=["audit"], route_class=DatabaseRoute)

# Stored values hold no control characters; PostgreSQL text cannot even take a NUL.
Filter = Annotated[str | None, Query(max_length=200, pattern=LINE_PATTERN)]


@router.get(
    "/events",
    operation_id="audit_list_events",
    response_model=Page[AuditEventRead],
    dependencies=[require("audit:read")],
    responses={304: {"description": "Not Modified (If-None-Match matched)"}},
)
async def audit_list_events(
    request: Request,
    reader: ReaderDep,
    page: PageParams,
    actor: Filter = None,
    action: Filter = None,
    resource_type: Filter = None,
    resource_id: Filter = None,
    occurred_before: Annotated[Instant | None, Query()] = None,
) -> Response:
    """Events in the order they happened; `updated_since` means "occurred at or after"."""
    rows, next_cursor = await list_events(
        reader,
        page,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        occurred_before=occurred_before,
    )
    body = Page[AuditEventRead](
        items=[AuditEventRead.model_validate(e) for e in rows], next_cursor=next_cursor
    )
    return cached_json(request, body)

"""The stock ledger: warehouse clerks book movements; back-office readers read them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Response, status

from app.domain.identity.principal import Principal
from app.domain.inventory import movements
from app.domain.inventory.rules import MovementKind
from app.http.dependencies import Idempotent, PageParams, ReaderDep, SessionDep, actor_for, require
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.inventory.items import WRITE
from app.schemas.common import Page
from app.schemas.inventory import MovementCreate, MovementRead

router = AreaRouter(prefix="/api/v1/inventory", tags=["inventory"], route_class=DatabaseRoute)

LEDGER_READ = require("inventory:read")
Writer = Annotated[Principal, WRITE]
MovementId = Annotated[uuid.UUID, Path(description="The movement's id")]


@router.post(
    "/movements",
    operation_id="inventory_create_movement",
    status_code=status.HTTP_201_CREATED,
    response_model=MovementRead,
    dependencies=[WRITE, Idempotent],
    responses=problem_responses(409, 422),
)
async def inventory_create_movement(
    body: MovementCreate, session: SessionDep, writer: Writer, response: Response
) -> MovementRead:
    """Book a receipt, issue, transfer, adjustment or stock count. Stock never goes below zero
    or below what is reserved: such a movement is refused with 409 and books nothing."""
    request = movements.MovementRequest(
        kind=MovementKind(body.kind),
        item_id=body.item_id,
        warehouse_id=body.warehouse_id,
        quantity=getattr(body, "quantity", None),
        to_warehouse_id=getattr(body, "to_warehouse_id", None),
        counted=getattr(body, "counted", None),
        reason=body.reason,
        reference=body.reference,
        id=body.id,
    )
    booked, _ = await movements.book_movement(session, actor_for(writer), request)
    response.headers["Location"] = f"{router.prefix}/movements/{booked['id']}"
    return MovementRead.model_validate(booked)


@router.get(
    "/movements",
    operation_id="inventory_list_movements",
    response_model=Page[MovementRead],
    dependencies=[LEDGER_READ],
)
async def inventory_list_movements(
    reader: ReaderDep,
    page: PageParams,
    item_id: Annotated[uuid.UUID | None, Query()] = None,
    warehouse_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[MovementKind | None, Query()] = None,
) -> Page[MovementRead]:
    """The ledger, oldest first; `updated_since` means "booked at or after"."""
    rows, next_cursor = await movements.list_movements(
        reader, page, item_id=item_id, warehouse_id=warehouse_id, kind=kind
    )
    return Page(items=[MovementRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/movements/{movement_id}",
    operation_id="inventory_get_movement",
    response_model=MovementRead,
    dependencies=[LEDGER_READ],
    responses=problem_responses(404),
)
async def inventory_get_movement(movement_id: MovementId, reader: ReaderDep) -> MovementRead:
    return MovementRead.model_validate(await movements.get_movement(reader, movement_id))

"""Warehouses: managed by warehouse clerks, read by everyone who reads stock."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Response, status

from app.domain.identity.principal import Principal
from app.domain.inventory import catalog
from app.http.conditional import IfMatchHeader, parse_if_match, version_etag
from app.http.dependencies import Idempotent, PageParams, ReaderDep, SessionDep, actor_for
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.inventory.items import READ, WRITE
from app.schemas.common import Page
from app.schemas.inventory import WarehouseCreate, WarehouseRead, WarehouseUpdate

router = AreaRouter(prefix="/api/v1/inventory", tags=["inventory"], route_class=DatabaseRoute)

Writer = Annotated[Principal, WRITE]
WarehouseId = Annotated[uuid.UUID, Path(description="The warehouse's id")]


@router.get(
    "/warehouses",
    operation_id="inventory_list_warehouses",
    response_model=Page[WarehouseRead],
    dependencies=[READ],
)
async def inventory_list_warehouses(reader: ReaderDep, page: PageParams) -> Page[WarehouseRead]:
    rows, next_cursor = await catalog.list_warehouses(reader, page)
    return Page(items=[WarehouseRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/warehouses",
    operation_id="inventory_create_warehouse",
    status_code=status.HTTP_201_CREATED,
    response_model=WarehouseRead,
    dependencies=[WRITE, Idempotent],
    responses=problem_responses(409, 422),
)
async def inventory_create_warehouse(
    body: WarehouseCreate, session: SessionDep, writer: Writer, response: Response
) -> WarehouseRead:
    fields = catalog.WarehouseFields(**body.model_dump(exclude={"id"}))
    warehouse = await catalog.create_warehouse(session, actor_for(writer), fields, body.id)
    response.headers["Location"] = f"{router.prefix}/warehouses/{warehouse.id}"
    response.headers["ETag"] = version_etag(warehouse.version)
    return WarehouseRead.model_validate(warehouse)


@router.get(
    "/warehouses/{warehouse_id}",
    operation_id="inventory_get_warehouse",
    response_model=WarehouseRead,
    dependencies=[READ],
    responses=problem_responses(404),
)
async def inventory_get_warehouse(
    warehouse_id: WarehouseId, reader: ReaderDep, response: Response
) -> WarehouseRead:
    warehouse = await catalog.get_warehouse(reader, warehouse_id)
    response.headers["ETag"] = version_etag(warehouse["version"])
    return WarehouseRead.model_validate(warehouse)


@router.patch(
    "/warehouses/{warehouse_id}",
    operation_id="inventory_update_warehouse",
    response_model=WarehouseRead,
    dependencies=[WRITE],
    responses=problem_responses(400, 404, 409, 412, 422),
)
async def inventory_update_warehouse(
    warehouse_id: WarehouseId,
    body: WarehouseUpdate,
    session: SessionDep,
    writer: Writer,
    response: Response,
    if_match: IfMatchHeader = None,
) -> WarehouseRead:
    """Change any field; `is_active: false` deactivates (no new stock can be booked there)."""
    fields = catalog.WarehouseFields(**body.model_dump(exclude_unset=True, exclude_none=True))
    warehouse = await catalog.update_warehouse(
        session, actor_for(writer), warehouse_id, parse_if_match(if_match), fields
    )
    response.headers["ETag"] = version_etag(warehouse.version)
    return WarehouseRead.model_validate(warehouse)

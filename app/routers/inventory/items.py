"""Items: warehouse clerks manage them; sales, the webshop and back-office readers read them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response, status

from app.domain.identity.principal import Principal
from app.domain.inventory import catalog
from app.http.conditional import IfMatchHeader, cached_json, parse_if_match, version_etag
from app.http.dependencies import Idempotent, PageParams, ReaderDep, SessionDep, actor_for, require
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.common import Page
from app.schemas.inventory import ItemCreate, ItemRead, ItemUpdate, Sku

READ = require("catalog:read", "inventory:read")
WRITE = require("inventory:write")

router = AreaRouter(prefix="/api/v1/inventory", tags=["inventory"], route_class=DatabaseRoute)

Writer = Annotated[Principal, WRITE]
ItemId = Annotated[uuid.UUID, Path(description="The item's id")]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified (If-None-Match matched)"}
}


@router.get(
    "/items",
    operation_id="inventory_list_items",
    response_model=Page[ItemRead],
    dependencies=[READ],
    responses=NOT_MODIFIED,
)
async def inventory_list_items(
    request: Request,
    reader: ReaderDep,
    page: PageParams,
    sku: Annotated[list[Sku] | None, Query(max_length=500, description="Only these SKUs")] = None,
    active: Annotated[bool | None, Query(description="Only active or only inactive")] = None,
) -> Response:
    """Oldest change first. Deactivated items stay listed with `is_active: false`, so a mirror
    that syncs with `updated_since` learns to drop them."""
    skus = [s.strip() for s in sku] if sku else None
    rows, next_cursor = await catalog.list_items(reader, page, skus=skus, active=active)
    body = Page[ItemRead](items=[ItemRead.model_validate(r) for r in rows], next_cursor=next_cursor)
    return cached_json(request, body)


@router.post(
    "/items",
    operation_id="inventory_create_item",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemRead,
    dependencies=[WRITE, Idempotent],
    responses=problem_responses(409, 422),
)
async def inventory_create_item(
    body: ItemCreate, session: SessionDep, writer: Writer, response: Response
) -> ItemRead:
    fields = catalog.ItemFields(**body.model_dump(exclude={"id"}))
    item = await catalog.create_item(session, actor_for(writer), fields, body.id)
    response.headers["Location"] = f"{router.prefix}/items/{item.id}"
    response.headers["ETag"] = version_etag(item.version)
    return ItemRead.model_validate(item)


@router.get(
    "/items/{item_id}",
    operation_id="inventory_get_item",
    response_model=ItemRead,
    dependencies=[READ],
    responses=problem_responses(404),
)
async def inventory_get_item(item_id: ItemId, reader: ReaderDep, response: Response) -> ItemRead:
    item = await catalog.get_item(reader, item_id)
    response.headers["ETag"] = version_etag(item["version"])
    return ItemRead.model_validate(item)


@router.patch(
    "/items/{item_id}",
    operation_id="inventory_update_item",
    response_model=ItemRead,
    dependencies=[WRITE],
    responses=problem_responses(400, 404, 409, 412, 422),
)
async def inventory_update_item(
    item_id: ItemId,
    body: ItemUpdate,
    session: SessionDep,
    writer: Writer,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ItemRead:
    """Change any field; null clears an optional one; `is_active: false` deactivates."""
    sent = body.model_dump(exclude_unset=True)
    cleared = [name for name, value in sent.items() if value is None]
    fields = catalog.ItemFields(**{k: v for k, v in sent.items() if v is not None})
    item = await catalog.update_item(
        session, actor_for(writer), item_id, parse_if_match(if_match), fields, cleared
    )
    response.headers["ETag"] = version_etag(item.version)
    return ItemRead.model_validate(item)

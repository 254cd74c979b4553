"""Business partners: customers and suppliers (`sales:customers:*` or `partners:*`).

People see every partner; an integration client sees the partners it created or knows by its
own external id, and upserts its customers by that id. A partner it may not see answers 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Request, Response, status

from app.domain.identity.principal import Principal
from app.domain.partners import rules, service
from app.domain.partners.service import PartnerView
from app.http.conditional import IfMatchHeader, cached_json, parse_if_match, version_etag
from app.http.dependencies import (
    Idempotent,
    PageParams,
    ReaderDep,
    SessionDep,
    actor_for,
    require,
    require_client,
)
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.common import Page
from app.schemas.partners import PartnerCreate, PartnerRead, PartnerUpdate, PartnerUpsert

_READ = require("sales:customers:read", "partners:read")
_WRITE = require("sales:customers:write", "partners:write")
_PEOPLE_USE_IDS = "external ids are an integration client's own; people use /api/v1/partners/{id}"
_CLIENT_READ = require_client("sales:customers:read", "partners:read", why=_PEOPLE_USE_IDS)
_CLIENT_WRITE = require_client("sales:customers:write", "partners:write", why=_PEOPLE_USE_IDS)

router = AreaRouter(prefix="/api/v1/partners", tags=["partners"], route_class=DatabaseRoute)

Reader = Annotated[Principal, _READ]
Writer = Annotated[Principal, _WRITE]
ClientReader = Annotated[Principal, _CLIENT_READ]
ClientWriter = Annotated[Principal, _CLIENT_WRITE]
PartnerId = Annotated[uuid.UUID, Path(description="The partner's id")]
ExternalId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        pattern=rules.EXTERNAL_ID_PATTERN,
        description="The client's own id for the partner (its customer number): 1-100 visible "
        "ASCII characters, no `/`, not starting with `.`",
    ),
]


def _read(view: PartnerView, response: Response) -> PartnerRead:
    response.headers["ETag"] = version_etag(view.version)
    return PartnerRead.model_validate(view)


@router.get(
    "",
    operation_id="partners_list_partners",
    response_model=Page[PartnerRead],
    responses={304: {"description": "Not Modified (If-None-Match matched)"}},
)
async def partners_list_partners(
    request: Request, reader: ReaderDep, caller: Reader, page: PageParams
) -> Response:
    """Oldest change first; pass `updated_since` to mirror changes. Deactivated partners stay
    in the list with `is_active` false (tombstones), so a mirror can drop them."""
    views, next_cursor = await service.list_partners(reader, caller, page)
    body = Page[PartnerRead](
        items=[PartnerRead.model_validate(v) for v in views], next_cursor=next_cursor
    )
    return cached_json(request, body)


@router.post(
    "",
    operation_id="partners_create_partner",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnerRead,
    dependencies=[_WRITE, Idempotent],
    responses=problem_responses(409, 422),
)
async def partners_create_partner(
    body: PartnerCreate, session: SessionDep, caller: Writer, response: Response
) -> PartnerRead:
    """Create a customer or supplier (suppliers need `partners:write`). Honours
    `Idempotency-Key` (required for integration clients) and accepts a client-supplied id."""
    new = service.NewPartner(data=body.to_domain(), id=body.id)
    view = await service.create_partner(session, actor_for(caller), caller, new)
    response.headers["Location"] = f"{router.prefix}/{view.id}"
    return _read(view, response)


@router.get(
    "/by-external-id/{external_id}",
    operation_id="partners_get_partner_by_external_id",
    response_model=PartnerRead,
    responses=problem_responses(404),
)
async def partners_get_partner_by_external_id(
    external_id: ExternalId, reader: ReaderDep, caller: ClientReader, response: Response
) -> PartnerRead:
    """The partner the calling integration client knows by its own id (clients only)."""
    view = await service.get_partner_by_external_id(reader, caller, external_id)
    return _read(view, response)


@router.put(
    "/by-external-id/{external_id}",
    operation_id="partners_upsert_partner_by_external_id",
    response_model=PartnerRead,
    responses={
        201: {"model": PartnerRead, "description": "Created"},
        **problem_responses(400, 412, 422),
    },
)
async def partners_upsert_partner_by_external_id(
    external_id: ExternalId,
    body: PartnerUpsert,
    session: SessionDep,
    caller: ClientWriter,
    response: Response,
    if_match: IfMatchHeader = None,
) -> PartnerRead:
    """Create or replace the customer the calling integration client knows by its own id
    (clients only): 201 with `Location` when it was created, 200 when it was updated or
    nothing changed. Safe to repeat; concurrent calls create one partner. Fields left out are
    cleared; roles and the active flag stay as the back office keeps them. With `If-Match`,
    only an existing partner at that version is replaced (else 412)."""
    result = await service.upsert_by_external_id(
        session,
        actor_for(caller),
        caller,
        external_id,
        body.to_fields(),
        expected=parse_if_match(if_match),
        must_exist=if_match is not None,
    )
    if result.created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"{router.prefix}/{result.partner.id}"
    return _read(result.partner, response)


@router.get(
    "/{partner_id}",
    operation_id="partners_get_partner",
    response_model=PartnerRead,
    responses=problem_responses(404),
)
async def partners_get_partner(
    partner_id: PartnerId, reader: ReaderDep, caller: Reader, response: Response
) -> PartnerRead:
    view = await service.get_partner(reader, caller, partner_id)
    return _read(view, response)


@router.patch(
    "/{partner_id}",
    operation_id="partners_update_partner",
    response_model=PartnerRead,
    responses=problem_responses(400, 404, 412, 422),
)
async def partners_update_partner(
    partner_id: PartnerId,
    body: PartnerUpdate,
    session: SessionDep,
    caller: Writer,
    response: Response,
    if_match: IfMatchHeader = None,
) -> PartnerRead:
    """Change the fields sent (null clears an optional one); `is_active` false deactivates,
    true reactivates. Send the ETag in `If-Match` to refuse a stale update (412)."""
    view = await service.update_partner(
        session,
        actor_for(caller),
        caller,
        partner_id,
        parse_if_match(if_match),
        body.to_changes(),
    )
    return _read(view, response)

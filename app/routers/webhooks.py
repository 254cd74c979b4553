"""Webhook subscriptions and their deliveries: an integration client manages its own
(`webhooks:own`); an admin (`users:admin`) manages them for any client. Another client's
subscription or delivery answers 404."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response, status

from app.config import Settings
from app.domain.identity.principal import Principal
from app.domain.webhooks import log
from app.domain.webhooks import subscriptions as service
from app.domain.webhooks.delivery import DeliveryPolicy
from app.domain.webhooks.targets import TargetPolicy
from app.http.conditional import IfMatchHeader, parse_if_match, version_etag
from app.http.dependencies import Idempotent, PageParams, ReaderDep, SessionDep, actor_for, require
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.common import Page
from app.schemas.webhooks import (
    DeliveryRead,
    DeliveryStatus,
    ReplayQueued,
    ReplayRange,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from app.webhook_policies import delivery_policy, target_policy

_MANAGE = require("webhooks:own", "users:admin")

router = AreaRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=DatabaseRoute)

Manager = Annotated[Principal, _MANAGE]
SubscriptionId = Annotated[uuid.UUID, Path(description="The subscription's id")]
DeliveryId = Annotated[uuid.UUID, Path(description="The delivery's id")]


def _policy(request: Request) -> TargetPolicy:
    settings: Settings = request.app.state.settings
    return target_policy(settings)


def _delivery_policy(request: Request) -> DeliveryPolicy:
    settings: Settings = request.app.state.settings
    return delivery_policy(settings)


def _read(row: Mapping[str, Any], response: Response) -> SubscriptionRead:
    response.headers["ETag"] = version_etag(row["version"])
    return SubscriptionRead.model_validate(row)


def _with_secret(made: service.Made, response: Response) -> SubscriptionWithSecret:
    response.headers["ETag"] = version_etag(made.subscription["version"])
    response.headers["Cache-Control"] = "no-store"
    return SubscriptionWithSecret.model_validate({**made.subscription, "secret": made.secret})


@router.get(
    "/subscriptions",
    operation_id="webhooks_list_subscriptions",
    response_model=Page[SubscriptionRead],
    dependencies=[_MANAGE],
)
async def webhooks_list_subscriptions(
    reader: ReaderDep, caller: Manager, page: PageParams
) -> Page[SubscriptionRead]:
    """Oldest change first; a client sees its own only. Secrets are never listed."""
    rows, next_cursor = await service.list_subscriptions(reader, caller, page)
    return Page(items=[SubscriptionRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/subscriptions",
    operation_id="webhooks_create_subscription",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionWithSecret,
    dependencies=[_MANAGE, Idempotent],
    responses=problem_responses(403, 409, 422),
)
async def webhooks_create_subscription(
    request: Request,
    body: SubscriptionCreate,
    session: SessionDep,
    caller: Manager,
    response: Response,
) -> SubscriptionWithSecret:
    """Subscribe a client to event types. The answer carries the signing secret, the only
    time it is shown. The URL is refused (422) when its host resolves to a loopback, private,
    link-local or metadata address."""
    made = await service.create_subscription(
        session,
        actor_for(caller),
        caller,
        client_id=body.client_id,
        url=body.url,
        event_types=body.event_types,
        policy=_policy(request),
        is_active=body.is_active,
        subscription_id=body.id,
    )
    response.headers["Location"] = f"{router.prefix}/subscriptions/{made.subscription['id']}"
    return _with_secret(made, response)


@router.get(
    "/subscriptions/{subscription_id}",
    operation_id="webhooks_get_subscription",
    response_model=SubscriptionRead,
    dependencies=[_MANAGE],
    responses=problem_responses(404),
)
async def webhooks_get_subscription(
    subscription_id: SubscriptionId, reader: ReaderDep, caller: Manager, response: Response
) -> SubscriptionRead:
    row = await service.get_subscription(reader, caller, subscription_id)
    return _read(row, response)


@router.patch(
    "/subscriptions/{subscription_id}",
    operation_id="webhooks_update_subscription",
    response_model=SubscriptionRead,
    dependencies=[_MANAGE],
    responses=problem_responses(400, 404, 409, 412, 422),
)
async def webhooks_update_subscription(
    request: Request,
    subscription_id: SubscriptionId,
    body: SubscriptionUpdate,
    session: SessionDep,
    caller: Manager,
    response: Response,
    if_match: IfMatchHeader = None,
) -> SubscriptionRead:
    """Change the URL (checked again), the event types or `is_active`."""
    fields = service.SubscriptionFields(**body.model_dump(exclude_unset=True, exclude_none=True))
    row = await service.update_subscription(
        session,
        actor_for(caller),
        caller,
        subscription_id,
        parse_if_match(if_match),
        fields,
        _policy(request),
    )
    return _read(row, response)


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    operation_id="webhooks_rotate_subscription_secret",
    response_model=SubscriptionWithSecret,
    dependencies=[_MANAGE],
    responses=problem_responses(400, 404, 412),
)
async def webhooks_rotate_subscription_secret(
    subscription_id: SubscriptionId,
    session: SessionDep,
    caller: Manager,
    response: Response,
    if_match: IfMatchHeader = None,
) -> SubscriptionWithSecret:
    """A new signing secret, shown this once; the old one stops signing at once."""
    made = await service.rotate_secret(
        session, actor_for(caller), caller, subscription_id, parse_if_match(if_match)
    )
    return _with_secret(made, response)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    operation_id="webhooks_list_deliveries",
    response_model=Page[DeliveryRead],
    dependencies=[_MANAGE],
    responses=problem_responses(404),
)
async def webhooks_list_deliveries(
    subscription_id: SubscriptionId,
    reader: ReaderDep,
    caller: Manager,
    page: PageParams,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in it")] = None,
) -> Page[DeliveryRead]:
    """The delivery log: each delivery with its attempts (status code, latency, error) and
    its next try, oldest change first (`updated_since` gives what changed)."""
    rows, next_cursor = await log.list_deliveries(
        reader, caller, subscription_id, page, status=status
    )
    return Page(items=[DeliveryRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/deliveries/{delivery_id}",
    operation_id="webhooks_get_delivery",
    response_model=DeliveryRead,
    dependencies=[_MANAGE],
    responses=problem_responses(404),
)
async def webhooks_get_delivery(
    delivery_id: DeliveryId, reader: ReaderDep, caller: Manager
) -> DeliveryRead:
    return DeliveryRead.model_validate(await log.get_delivery(reader, caller, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/replay",
    operation_id="webhooks_replay_delivery",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    dependencies=[_MANAGE, Idempotent],
    responses=problem_responses(404, 409),
)
async def webhooks_replay_delivery(
    request: Request,
    delivery_id: DeliveryId,
    session: SessionDep,
    caller: Manager,
    response: Response,
) -> DeliveryRead:
    """Send the delivery's event again (delivered or failed ones; 409 while it is pending or
    the subscription is off): a new delivery, queued behind the subscription's others, with
    the same `webhook-id`."""
    made = await log.replay_delivery(
        session, actor_for(caller), caller, delivery_id, _delivery_policy(request)
    )
    response.headers["Location"] = f"{router.prefix}/deliveries/{made['id']}"
    return DeliveryRead.model_validate(made)


@router.post(
    "/subscriptions/{subscription_id}/replay",
    operation_id="webhooks_replay_subscription",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplayQueued,
    dependencies=[_MANAGE, Idempotent],
    responses=problem_responses(404, 409, 422),
)
async def webhooks_replay_subscription(
    request: Request,
    subscription_id: SubscriptionId,
    body: ReplayRange,
    session: SessionDep,
    caller: Manager,
) -> ReplayQueued:
    """Send again every event of a time range the subscription wants, in order, including
    those from while it was switched off (at most 10,000 at a time; 422 for more)."""
    queued = await log.replay_range(
        session,
        actor_for(caller),
        caller,
        subscription_id,
        since=body.since,
        until=body.until,
        policy=_delivery_policy(request),
    )
    return ReplayQueued(queued=queued)

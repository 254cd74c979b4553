"""Queries for business partners and the external ids integration clients know them by.

Reads that answer requests are single Core statements (prepared.py, keyset.py); the ORM loads
what a change is about to modify. Which partners an integration client sees is one condition,
`visible_to`, that every read and every change of a client goes through.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Uuid, bindparam, exists, null, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.partners import Partner, PartnerExternalId
from app.db.prepared import Prepared

ClientRef = ColumnElement[uuid.UUID] | uuid.UUID


def visible_to(client: ClientRef) -> ColumnElement[bool]:
    """The partners an integration client may see and change: those it created, and those it
    holds an external id for.

    The orders area extends this with "linked to one of its orders" (an EXISTS over its order
    table, or a link table it keeps): add it here, as one more branch of the OR, and every
    read and change of a client follows.
    """
    return or_(
        Partner.created_by == client,
        exists().where(
            PartnerExternalId.partner_id == Partner.id, PartnerExternalId.client_id == client
        ),
    )


def _external_id_of(client: ClientRef) -> Any:
    """The client's own id for the partner (at most one: unique per partner and client)."""
    return (
        select(PartnerExternalId.external_id)
        .where(PartnerExternalId.partner_id == Partner.id, PartnerExternalId.client_id == client)
        .scalar_subquery()
        .label("external_id")
    )


_CALLER = bindparam("caller", type_=Uuid())
_COLUMNS = list(Partner.__table__.c)
# People see every partner and hold no external ids; a client sees its own, with its ids.
_ANY_ROW = select(*_COLUMNS, null().label("external_id"))
_VISIBLE_ROW = select(*_COLUMNS, _external_id_of(_CALLER)).where(visible_to(_CALLER))

_BY_ID = Prepared(_ANY_ROW.where(Partner.id == bindparam("partner_id")))
_VISIBLE_BY_ID = Prepared(_VISIBLE_ROW.where(Partner.id == bindparam("partner_id")))
_BY_EXTERNAL_ID = Prepared(
    select(*_COLUMNS, PartnerExternalId.external_id)
    .join(PartnerExternalId, PartnerExternalId.partner_id == Partner.id)
    .where(
        PartnerExternalId.client_id == _CALLER,
        PartnerExternalId.external_id == bindparam("external_id"),
    )
)
_PARTNERS = KeysetQuery(_ANY_ROW, stamp=Partner.updated_at, ident=Partner.id)
_VISIBLE_PARTNERS = KeysetQuery(_VISIBLE_ROW, stamp=Partner.updated_at, ident=Partner.id)
_EXISTS = Prepared(select(Partner.id).where(Partner.id == bindparam("partner_id")))


async def partner_row(
    reader: AsyncConnection, partner_id: uuid.UUID, *, client: uuid.UUID | None
) -> dict[str, Any] | None:
    """The partner's columns and `external_id` (the client's own id, None for people); None
    when there is no such partner or `client` may not see it. `client` None: a person."""
    if client is None:
        return await _BY_ID.one_or_none(reader, partner_id=partner_id)
    return await _VISIBLE_BY_ID.one_or_none(reader, partner_id=partner_id, caller=client)


async def partner_row_by_external_id(
    reader: AsyncConnection, client: uuid.UUID, external_id: str
) -> dict[str, Any] | None:
    return await _BY_EXTERNAL_ID.one_or_none(reader, caller=client, external_id=external_id)


async def partner_rows(
    reader: AsyncConnection, page: PageRequest, *, client: uuid.UUID | None
) -> tuple[list[dict[str, Any]], str | None]:
    if client is None:
        return await _PARTNERS.page(reader, page)
    return await _VISIBLE_PARTNERS.page(reader, page, bind={"caller": client})


async def partner_exists(session: AsyncSession, partner_id: uuid.UUID) -> bool:
    """Whether the id is taken, whoever may see the partner."""
    connection = await session.connection()
    return await _EXISTS.one_or_none(connection, partner_id=partner_id) is not None


async def load_partner(
    session: AsyncSession, partner_id: uuid.UUID, *, client: uuid.UUID | None
) -> tuple[Partner, str | None] | None:
    """The partner to change and the client's own id for it, if `client` may see it."""
    if client is None:
        partner = await session.get(Partner, partner_id)
        return None if partner is None else (partner, None)
    stmt = select(Partner, _external_id_of(client)).where(
        Partner.id == partner_id, visible_to(client)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def claim_external_id(
    session: AsyncSession, client: uuid.UUID, external_id: str, new_partner_id: uuid.UUID
) -> uuid.UUID:
    """The partner the client's external id names, claiming it for `new_partner_id` when it
    names none yet (the caller then inserts that partner in the same transaction).

    Race-free by the primary key (client, external id): of concurrent claims one inserts, the
    others wait for its transaction and then get its partner. The row stays locked until the
    transaction ends, so concurrent upserts of one external id are applied one after another.
    """
    claim = insert(PartnerExternalId).values(
        client_id=client, external_id=external_id, partner_id=new_partner_id
    )
    stmt = claim.on_conflict_do_update(
        index_elements=[PartnerExternalId.client_id, PartnerExternalId.external_id],
        set_={"partner_id": PartnerExternalId.partner_id},
    ).returning(PartnerExternalId.partner_id)
    partner_id: uuid.UUID = (await session.execute(stmt)).scalar_one()
    return partner_id


async def external_id_holders(session: AsyncSession, partner_id: uuid.UUID) -> list[uuid.UUID]:
    """The clients that know the partner by an id of their own."""
    rows = await session.scalars(
        select(PartnerExternalId.client_id).where(PartnerExternalId.partner_id == partner_id)
    )
    return list(rows)

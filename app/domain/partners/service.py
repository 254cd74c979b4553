"""Business partners: the one shared record of customers and suppliers.

People holding a partners or sales-customers permission see every partner. An integration
client sees, and changes, only the partners it created or holds an external id for (see
`visible_to` in the repository); any other partner is "not found" to it, so ids do not leak.
Every change is written by `_store`, with its audit event in the same transaction.

Other areas use `resolve_customer` (and the dataclasses it returns), never these tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.partners import Partner
from app.db.repositories import partners as repo
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RuleViolation,
)
from app.domain.events.service import Event, publish
from app.domain.events.types import EventType
from app.domain.identity.principal import Principal
from app.domain.partners import rules
from app.domain.partners.rules import PartnerData, PostalAddress

_RESOURCE = "partner"
_ADDRESS_KINDS = ("billing", "shipping")
_NOT_FOUND = "no such partner"


@dataclass(frozen=True, slots=True)
class PartnerView:
    """A partner as a caller sees it; `external_id` is the calling client's own id for it."""

    id: uuid.UUID
    name: str
    is_customer: bool
    is_supplier: bool
    email: str | None
    phone: str | None
    vat_id: str | None
    billing_address: PostalAddress | None
    shipping_address: PostalAddress | None
    is_active: bool
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewPartner:
    data: PartnerData
    id: uuid.UUID | None = None  # client-supplied, else generated


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """What another area (orders) needs of a customer. Inactive customers are returned too,
    with `is_active` False: whether that stops a new order is the caller's rule."""

    id: uuid.UUID
    name: str
    email: str | None
    vat_id: str | None
    billing_address: PostalAddress | None
    shipping_address: PostalAddress | None
    is_active: bool


# --- mapping between the table's columns and the domain's values ------------------------------


def _address_from(values: Mapping[str, Any], kind: str) -> PostalAddress | None:
    if values[f"{kind}_street"] is None:
        return None
    return PostalAddress(
        street=values[f"{kind}_street"],
        street2=values[f"{kind}_street2"],
        postal_code=values[f"{kind}_postal_code"],
        city=values[f"{kind}_city"],
        country=values[f"{kind}_country"],
    )


def _address_columns(address: PostalAddress | None, kind: str) -> dict[str, str | None]:
    return {
        f"{kind}_street": address.street if address else None,
        f"{kind}_street2": address.street2 if address else None,
        f"{kind}_postal_code": address.postal_code if address else None,
        f"{kind}_city": address.city if address else None,
        f"{kind}_country": address.country if address else None,
    }


def _view(values: Mapping[str, Any], external_id: str | None) -> PartnerView:
    return PartnerView(
        id=values["id"],
        name=values["name"],
        is_customer=values["is_customer"],
        is_supplier=values["is_supplier"],
        email=values["email"],
        phone=values["phone"],
        vat_id=values["vat_id"],
        billing_address=_address_from(values, "billing"),
        shipping_address=_address_from(values, "shipping"),
        is_active=values["is_active"],
        external_id=external_id,
        version=values["version"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


def _row_view(row: Mapping[str, Any]) -> PartnerView:
    return _view(row, row["external_id"])


def _model_values(partner: Partner) -> dict[str, Any]:
    return {c.key: getattr(partner, c.key) for c in Partner.__table__.c}


def _model_view(partner: Partner, external_id: str | None) -> PartnerView:
    return _view(_model_values(partner), external_id)


def _data_of(partner: Partner) -> PartnerData:
    values = _model_values(partner)
    return PartnerData(
        name=partner.name,
        is_customer=partner.is_customer,
        is_supplier=partner.is_supplier,
        email=partner.email,
        phone=partner.phone,
        vat_id=partner.vat_id,
        billing_address=_address_from(values, "billing"),
        shipping_address=_address_from(values, "shipping"),
        is_active=partner.is_active,
    )


def _write(partner: Partner, data: PartnerData) -> None:
    """Sets only what differs, so an unchanged partner stays clean (no UPDATE)."""
    values: dict[str, Any] = {
        "name": data.name,
        "is_customer": data.is_customer,
        "is_supplier": data.is_supplier,
        "email": data.email,
        "phone": data.phone,
        "vat_id": data.vat_id,
        "is_active": data.is_active,
    }
    values |= _address_columns(data.billing_address, "billing")
    values |= _address_columns(data.shipping_address, "shipping")
    for key, value in values.items():
        if getattr(partner, key, None) != value:
            setattr(partner, key, value)


def _snapshot(partner: Partner) -> dict[str, Any]:
    return rules.snapshot(_data_of(partner))


# --- who may do what -------------------------------------------------------------------------


def _client_of(caller: Principal | None) -> uuid.UUID | None:
    """The client whose view is limited; None for people and the system, who see all."""
    return caller.id if caller is not None and caller.is_client else None


def _check_may_set(
    caller: Principal | None, current: PartnerData | None, wanted: PartnerData
) -> None:
    if caller is None:
        return
    refused = rules.fields_caller_may_not_set(caller.permissions, current, wanted)
    if refused:
        names = " and ".join(refused)
        raise PermissionDenied(
            f"changing {names} needs the permission {rules.SUPPLIERS_PERMISSION!r}"
        )


# --- the one place partners are written --------------------------------------------------------


async def _store(
    session: AsyncSession,
    actor: Actor,
    partner: Partner,
    wanted: PartnerData,
    *,
    expected: ExpectedVersion | None,
    audit_extra: Mapping[str, Any] | None = None,
) -> bool:
    """Writes `wanted` into `partner`, inserting it when `expected` is None (a new partner),
    and records the change in the audit log, all in the caller's transaction. False when an
    update changed nothing (then nothing is written).

    Every create and change of a partner goes through here, and so publishes its
    `partner.changed` event: integration clients see it when `visible_to` would show them the
    partner (they created it or hold an external id for it).
    """
    if expected is None:
        _write(partner, wanted)
        session.add(partner)
        await session.flush()
        after = _snapshot(partner) | dict(audit_extra or {})
        await record_change(
            session,
            actor,
            action="partner.create",
            resource_type=_RESOURCE,
            resource_id=partner.id,
            before=None,
            after=after,
        )
    else:
        action = rules.change_action(_data_of(partner), wanted)
        changed = await apply_audited_change(
            session,
            actor,
            partner,
            expected=expected,
            snapshot=_snapshot,
            apply=lambda target: _write(target, wanted),
            change=AuditedChange(action, _RESOURCE),
        )
        if not changed:
            return False
    await _publish_change(session, partner)
    return True


async def _publish_change(session: AsyncSession, partner: Partner) -> None:
    owners = await repo.external_id_holders(session, partner.id)
    if partner.created_by is not None and partner.created_by not in owners:
        owners.append(partner.created_by)
    data = _snapshot(partner) | {"is_active": partner.is_active, "version": partner.version}
    await publish(session, [Event(EventType.partner_changed, partner.id, data, owners)])


# --- reads ------------------------------------------------------------------------------------


async def list_partners(
    reader: AsyncConnection, caller: Principal, page: PageRequest
) -> tuple[list[PartnerView], str | None]:
    """Oldest change first. Deactivated partners are listed too (`is_active` false), so a
    mirror that syncs with `updated_since` learns of them."""
    rows, next_cursor = await repo.partner_rows(reader, page, client=_client_of(caller))
    return [_row_view(r) for r in rows], next_cursor


async def get_partner(
    reader: AsyncConnection, caller: Principal, partner_id: uuid.UUID
) -> PartnerView:
    row = await repo.partner_row(reader, partner_id, client=_client_of(caller))
    if row is None:
        raise NotFound(_NOT_FOUND)
    return _row_view(row)


async def get_partner_by_external_id(
    reader: AsyncConnection, caller: Principal, external_id: str
) -> PartnerView:
    """The partner the calling client knows by `external_id`. People hold no external ids."""
    row = None
    if caller.is_client:
        row = await repo.partner_row_by_external_id(reader, caller.id, external_id)
    if row is None:
        raise NotFound("no partner has this external id for this client")
    return _row_view(row)


# --- changes ----------------------------------------------------------------------------------


async def create_partner(
    session: AsyncSession, actor: Actor, caller: Principal | None, new: NewPartner
) -> PartnerView:
    """Ids are unique across all partners, whoever may see them. Without `partners:write` a
    caller creates customers only. `caller` None: the system (demo data, imports)."""
    data = rules.checked(new.data)
    _check_may_set(caller, None, data)
    partner_id = new.id or uuid.uuid4()
    if await repo.partner_exists(session, partner_id):
        raise Conflict("a partner with this id exists")
    partner = Partner(id=partner_id, created_by=caller.id if caller is not None else None)
    await _store(session, actor, partner, data, expected=None)
    return _model_view(partner, None)


async def update_partner(
    session: AsyncSession,
    actor: Actor,
    caller: Principal | None,
    partner_id: uuid.UUID,
    expected: ExpectedVersion,
    changes: Mapping[str, Any],
) -> PartnerView:
    """A partial update: the fields in `changes` (PartnerData's names) get the given values,
    None clears an optional one. 412 semantics when `expected` is stale; a partner the caller
    may not see is not found."""
    loaded = await repo.load_partner(session, partner_id, client=_client_of(caller))
    if loaded is None:
        raise NotFound(_NOT_FOUND)
    partner, external_id = loaded
    expected.check(partner.version)
    current = _data_of(partner)
    wanted = rules.checked(rules.with_changes(current, changes))
    _check_may_set(caller, current, wanted)
    await _store(session, actor, partner, wanted, expected=expected)
    return _model_view(partner, external_id)


async def deactivate_partner(
    session: AsyncSession,
    actor: Actor,
    caller: Principal | None,
    partner_id: uuid.UUID,
    expected: ExpectedVersion,
) -> PartnerView:
    """The partner stays (invoices and orders refer to it) but is marked inactive; lists keep
    showing it, as a tombstone for mirrors."""
    return await update_partner(session, actor, caller, partner_id, expected, {"is_active": False})


async def reactivate_partner(
    session: AsyncSession,
    actor: Actor,
    caller: Principal | None,
    partner_id: uuid.UUID,
    expected: ExpectedVersion,
) -> PartnerView:
    return await update_partner(session, actor, caller, partner_id, expected, {"is_active": True})


@dataclass(frozen=True, slots=True)
class Upserted:
    partner: PartnerView
    created: bool


async def upsert_by_external_id(
    session: AsyncSession,
    actor: Actor,
    caller: Principal,
    external_id: str,
    fields: Mapping[str, Any],
    *,
    expected: ExpectedVersion,
    must_exist: bool = False,
) -> Upserted:
    """Creates or replaces the customer the calling client knows by `external_id`.

    `fields` are the client's own (rules.CLIENT_OWNED_FIELDS; left-out optional ones are
    cleared); a new partner is an active customer. Roles and the active flag stay as the back
    office keeps them. Race-free: concurrent upserts of one new external id create one
    partner (repo.claim_external_id). `must_exist` (an If-Match was sent): 412 instead of a
    creation. Two clients' equal external ids are two different partners.
    """
    if not caller.is_client:
        raise PermissionDenied("external ids belong to integration clients")
    try:
        external_id = rules.check_external_id(external_id)
    except rules.InvalidValue as exc:
        error = FieldError(str(exc), parameter="external_id")
        raise InvalidInput("the external id is not valid", [error]) from exc
    # Checked before the claim, so a bad request never holds the external id's lock.
    created_data = rules.checked(rules.new_customer(fields))
    new_id = uuid.uuid4()
    partner_id = await repo.claim_external_id(session, caller.id, external_id, new_id)
    if partner_id == new_id:
        if must_exist:
            raise PreconditionFailed("no partner has this external id yet (If-Match was sent)")
        partner = Partner(id=new_id, created_by=caller.id)
        await _store(
            session,
            actor,
            partner,
            created_data,
            expected=None,
            audit_extra={"external_id": external_id},
        )
        return Upserted(_model_view(partner, external_id), created=True)
    loaded = await repo.load_partner(session, partner_id, client=None)
    if loaded is None:  # the foreign key keeps every claimed id's partner
        raise NotFound(_NOT_FOUND)
    partner = loaded[0]
    expected.check(partner.version)
    current = _data_of(partner)
    wanted = rules.checked(rules.with_client_fields(current, fields))
    await _store(session, actor, partner, wanted, expected=expected)
    return Upserted(_model_view(partner, external_id), created=False)


# --- for other areas --------------------------------------------------------------------------


async def resolve_customer(
    db: AsyncSession | AsyncConnection,
    caller: Principal,
    *,
    partner_id: uuid.UUID | None = None,
    external_id: str | None = None,
) -> CustomerRef:
    """The customer an order is for, by partner id or by the calling client's external id
    (exactly one of them), as `caller` may see it.

    NotFound when there is no such partner or the caller may not see it (a client sees only
    its own); RuleViolation when the partner is a supplier only. Runs in the caller's
    transaction when given its session.
    """
    if (partner_id is None) == (external_id is None):
        raise TypeError("give exactly one of partner_id and external_id")
    reader = db if isinstance(db, AsyncConnection) else await db.connection()
    if partner_id is not None:
        view = await get_partner(reader, caller, partner_id)
    else:
        assert external_id is not None
        view = await get_partner_by_external_id(reader, caller, external_id)
    if not view.is_customer:
        raise RuleViolation(f"partner {view.id} is not a customer")
    return CustomerRef(
        id=view.id,
        name=view.name,
        email=view.email,
        vat_id=view.vat_id,
        billing_address=view.billing_address,
        shipping_address=view.shipping_address,
        is_active=view.is_active,
    )

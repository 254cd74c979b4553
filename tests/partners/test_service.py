"""The partners service on a real database: visibility, audited changes, the upsert's claim,
what other areas get, and the constraints the database keeps by itself."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models import AuditEvent, Partner, PartnerExternalId
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RuleViolation,
)
from app.domain.identity.principal import Principal
from app.domain.partners import service
from app.domain.partners.rules import PartnerData, PostalAddress
from tests.factories.identity import TEST_ACTOR, make_principal
from tests.factories.partners import make_partner, new_external_id

ANY_VERSION = ExpectedVersion(None)


async def _reader(session: AsyncSession) -> AsyncConnection:
    return await session.connection()


async def _upsert(
    session: AsyncSession, shop: Principal, external_id: str, **fields: object
) -> service.Upserted:
    values: dict[str, object] = {"name": "Erika Mustermann"} | fields
    return await service.upsert_by_external_id(
        session, TEST_ACTOR, shop, external_id, values, expected=ANY_VERSION
    )


async def test_the_system_creates_partners_nobody_owns(session: AsyncSession) -> None:
    partner = await make_partner(session, vat_id="de136695976")
    assert partner.vat_id == "DE136695976"
    stored = await session.get(Partner, partner.id)
    assert stored is not None
    assert stored.created_by is None
    person = await make_principal(session, "auditor")
    shop = await make_principal(session, "webshop")
    reader = await _reader(session)
    assert (await service.get_partner(reader, person, partner.id)).id == partner.id
    with pytest.raises(NotFound):
        await service.get_partner(reader, shop, partner.id)


async def test_the_rules_hold_for_callers_other_than_the_api(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as exc:
        await make_partner(session, vat_id="DE136695977", email=" ")
    assert [e.pointer for e in exc.value.errors] == ["/vat_id"]
    sales = await make_principal(session, "sales")
    with pytest.raises(PermissionDenied, match="is_supplier"):
        await make_partner(session, sales, is_supplier=True)


async def test_ids_are_unique_whoever_may_see_the_partner(session: AsyncSession) -> None:
    existing = await make_partner(session)
    shop = await make_principal(session, "webshop")
    new = service.NewPartner(data=PartnerData(name="Zwilling"), id=existing.id)
    with pytest.raises(Conflict):
        await service.create_partner(session, TEST_ACTOR, shop, new)


async def test_update_checks_the_version_and_audits_the_change(session: AsyncSession) -> None:
    accountant = await make_principal(session, "accountant")
    partner = await make_partner(session, accountant)
    with pytest.raises(PreconditionFailed):
        await service.update_partner(
            session, TEST_ACTOR, accountant, partner.id, ExpectedVersion(frozenset({2})), {}
        )
    changed = await service.update_partner(
        session,
        TEST_ACTOR,
        accountant,
        partner.id,
        ExpectedVersion(frozenset({1})),
        {"shipping_address": PostalAddress("Lager 1", "Hamburg", "DE", "20095")},
    )
    assert changed.version == 2
    assert changed.updated_at >= partner.updated_at
    assert changed.shipping_address == PostalAddress("Lager 1", "Hamburg", "DE", "20095")
    gone = await service.deactivate_partner(
        session, TEST_ACTOR, accountant, partner.id, ANY_VERSION
    )
    assert gone.is_active is False
    back = await service.reactivate_partner(
        session, TEST_ACTOR, accountant, partner.id, ANY_VERSION
    )
    assert back.is_active is True
    events = (
        await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.resource_id == str(partner.id))
            .order_by(AuditEvent.occurred_at)
        )
    ).all()
    assert events == [
        "partner.create",
        "partner.update",
        "partner.deactivate",
        "partner.reactivate",
    ]


async def test_an_upsert_claims_the_external_id_once(session: AsyncSession) -> None:
    shop = await make_principal(session, "webshop")
    external_id = new_external_id()
    first = await _upsert(session, shop, external_id)
    again = await _upsert(session, shop, external_id, email="erika@example.com")
    assert (first.created, again.created) == (True, False)
    assert again.partner.id == first.partner.id
    assert again.partner.external_id == external_id
    claims = (
        await session.scalars(
            select(PartnerExternalId.partner_id).where(PartnerExternalId.client_id == shop.id)
        )
    ).all()
    assert claims == [first.partner.id]
    stored = await session.get(Partner, first.partner.id)
    assert stored is not None
    assert stored.created_by == shop.id


async def test_only_clients_upsert_and_only_by_a_sane_external_id(session: AsyncSession) -> None:
    person = await make_principal(session, "admin")
    with pytest.raises(PermissionDenied):
        await _upsert(session, person, "K-1")
    shop = await make_principal(session, "webshop")
    with pytest.raises(InvalidInput) as exc:
        await _upsert(session, shop, "a/b")
    assert exc.value.errors[0].parameter == "external_id"
    with pytest.raises(PreconditionFailed):
        await service.upsert_by_external_id(
            session,
            TEST_ACTOR,
            shop,
            new_external_id(),
            {"name": "Neu"},
            expected=ANY_VERSION,
            must_exist=True,
        )


async def test_lists_show_each_caller_what_it_may_see(session: AsyncSession) -> None:
    shop = await make_principal(session, "webshop")
    other_shop = await make_principal(session, "webshop")
    person = await make_principal(session, "sales")
    own = await make_partner(session, shop)
    known = (await _upsert(session, shop, "K-7")).partner
    await _upsert(session, other_shop, "K-7")
    await make_partner(session, person)
    reader = await _reader(session)
    page = PageRequest(limit=50)
    shops_view, _ = await service.list_partners(reader, shop, page)
    assert {(p.id, p.external_id) for p in shops_view} == {(own.id, None), (known.id, "K-7")}
    everything, _ = await service.list_partners(reader, person, page)
    assert len(everything) == 4


async def test_resolve_customer_for_the_orders_area(session: AsyncSession) -> None:
    shop = await make_principal(session, "webshop")
    person = await make_principal(session, "sales")
    mine = (await _upsert(session, shop, "K-42", vat_id="ATU13585627")).partner
    someone_elses = await make_partner(session, person)
    supplier = await make_partner(session, None, is_customer=False, is_supplier=True)

    by_external_id = await service.resolve_customer(session, shop, external_id="K-42")
    by_id = await service.resolve_customer(await _reader(session), shop, partner_id=mine.id)
    assert by_external_id == by_id
    assert (by_id.name, by_id.vat_id, by_id.is_active) == ("Erika Mustermann", "ATU13585627", True)
    with pytest.raises(NotFound):
        await service.resolve_customer(session, shop, partner_id=someone_elses.id)
    with pytest.raises(NotFound):
        await service.resolve_customer(session, shop, external_id="K-43")
    with pytest.raises(NotFound):
        await service.resolve_customer(session, person, external_id="K-42")
    assert (await service.resolve_customer(session, person, partner_id=mine.id)).id == mine.id
    with pytest.raises(RuleViolation, match="not a customer"):
        await service.resolve_customer(session, person, partner_id=supplier.id)
    with pytest.raises(TypeError):
        await service.resolve_customer(session, person)
    with pytest.raises(TypeError):
        await service.resolve_customer(session, person, partner_id=mine.id, external_id="K-42")


# --- what the database refuses by itself ------------------------------------------------------


async def _insert(session: AsyncSession, row: object, *, check_deferred: bool = False) -> None:
    """Insert one raw row in a savepoint (rolled back if the database refuses it)."""
    async with session.begin_nested():
        session.add(row)
        await session.flush()
        if check_deferred:
            await session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


@pytest.mark.parametrize(
    ("column_values", "constraint"),
    [
        ({"is_customer": False, "is_supplier": False}, "has_a_role"),
        ({"vat_id": "DE 136 695 976"}, "vat_id_compact"),
        ({"billing_street": "Marktplatz 1"}, "billing_address_complete"),
        (
            {
                "shipping_street": "Marktplatz 1",
                "shipping_city": "Leipzig",
                "shipping_country": "de",
            },
            "shipping_address_complete",
        ),
        ({"shipping_postal_code": "04109"}, "shipping_address_complete"),
    ],
)
async def test_the_database_refuses_partners_the_rules_refuse(
    session: AsyncSession, column_values: dict[str, object], constraint: str
) -> None:
    values: dict[str, object] = {"id": uuid.uuid4(), "name": "Roh", "is_customer": True}
    values |= {"is_supplier": False} | column_values
    with pytest.raises(IntegrityError, match=constraint):
        await _insert(session, Partner(**values))


@pytest.mark.parametrize("external_id", ["a/b", ".x", "ä", "a b"])
async def test_the_database_refuses_external_ids_outside_visible_ascii(
    session: AsyncSession, external_id: str
) -> None:
    shop = await make_principal(session, "webshop")
    partner = await make_partner(session, shop)
    row = PartnerExternalId(client_id=shop.id, external_id=external_id, partner_id=partner.id)
    with pytest.raises(IntegrityError, match="external_id_visible_ascii"):
        await _insert(session, row)


async def test_a_claimed_external_id_must_name_a_partner_by_the_commit(
    session: AsyncSession,
) -> None:
    shop = await make_principal(session, "webshop")
    row = PartnerExternalId(client_id=shop.id, external_id="K-1", partner_id=uuid.uuid4())
    await _insert(session, row)  # deferred: accepted for now
    with pytest.raises(DBAPIError, match="partners_external_id_partner_id"):
        await _insert(
            session,
            PartnerExternalId(client_id=shop.id, external_id="K-2", partner_id=uuid.uuid4()),
            check_deferred=True,
        )

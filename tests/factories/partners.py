"""Business partners for tests: request bodies and partners made through the service."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.identity.principal import Principal
from app.domain.partners import service
from app.domain.partners.rules import PartnerData, PostalAddress
from app.domain.partners.service import PartnerView
from tests.factories.identity import TEST_ACTOR

PARTNERS = "/api/v1/partners"
# Valid USt-IdNr / EU VAT ids (check digits correct), as python-stdnum's own tests use them.
VAT_IDS = ("DE136695976", "DE129273398", "ATU13585627", "FR40303265045")


def by_external_id(external_id: str) -> str:
    return f"{PARTNERS}/by-external-id/{external_id}"


def address_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "street": "Friedrichstraße 123",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
    }
    return body | overrides


def partner_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /api/v1/partners: a customer with a unique name."""
    body: dict[str, Any] = {
        "name": f"Musterfirma {uuid.uuid4().hex[:8]} GmbH",
        "email": "einkauf@musterfirma.example",
        "phone": "+49 30 1234567",
        "vat_id": VAT_IDS[0],
        "billing_address": address_body(),
    }
    return body | overrides


def upsert_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for PUT /api/v1/partners/by-external-id/{external_id}."""
    body: dict[str, Any] = {
        "name": "Erika Mustermann",
        "email": "erika@example.com",
        "shipping_address": address_body(
            street="Hauptstraße 5", postal_code="80331", city="München"
        ),
    }
    return body | overrides


def new_external_id() -> str:
    return f"K-{uuid.uuid4().hex[:12]}"


async def make_partner(
    session: AsyncSession,
    caller: Principal | None = None,
    *,
    name: str | None = None,
    **data: Any,
) -> PartnerView:
    """A partner created through the service (by `caller`, or by the system)."""
    values: dict[str, Any] = {
        "name": name or f"Beispiel {uuid.uuid4().hex[:8]} KG",
        "billing_address": PostalAddress(
            street="Marktplatz 1", postal_code="04109", city="Leipzig", country="DE"
        ),
    }
    new = service.NewPartner(data=PartnerData(**(values | data)))
    return await service.create_partner(session, TEST_ACTOR, caller, new)

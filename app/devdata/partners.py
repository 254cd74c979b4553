"""Demo business partners: a few customers and one supplier, German and Austrian.

Each has a fixed id, so loading is idempotent: a partner that exists already is left as it is.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import partners as queries
from app.domain.actor import Actor
from app.domain.partners import service
from app.domain.partners.rules import PartnerData, PostalAddress

DEMO_ACTOR = Actor("system:demo-data")
_IDS = uuid.UUID("6f1c2a8e-3d4b-4e5f-9a0b-1c2d3e4f5a6b")  # namespace of the demo partners' ids

DEMO_PARTNERS = (
    PartnerData(
        name="Bäckerei Schmidt GmbH",
        email="einkauf@baeckerei-schmidt.example",
        phone="+49 6221 4711",
        vat_id="DE136695976",
        billing_address=PostalAddress("Hauptstraße 12", "Heidelberg", "DE", "69117"),
    ),
    PartnerData(
        name="Müller Maschinenbau GmbH & Co. KG",
        email="buchhaltung@mueller-maschinenbau.example",
        phone="+49 711 987650",
        vat_id="DE811569869",
        billing_address=PostalAddress("Industriestraße 5", "Stuttgart", "DE", "70565"),
        shipping_address=PostalAddress(
            "Robert-Bosch-Straße 20", "Leonberg", "DE", "71229", street2="Werk 2, Tor 3"
        ),
    ),
    PartnerData(
        name="Erika Mustermann",
        email="erika.mustermann@demo.example",
        billing_address=PostalAddress("Heidestraße 17", "Köln", "DE", "51147"),
    ),
    PartnerData(
        name="Wiener Feinkost GmbH",
        email="office@wiener-feinkost.example",
        vat_id="ATU13585627",
        billing_address=PostalAddress("Mariahilfer Straße 1", "Wien", "AT", "1060"),
    ),
    PartnerData(
        name="Nordsee Verpackungen GmbH",
        is_customer=False,
        is_supplier=True,
        email="vertrieb@nordsee-verpackungen.example",
        phone="+49 471 30940",
        vat_id="DE129273398",
        billing_address=PostalAddress("Am Hafen 3", "Bremerhaven", "DE", "27568"),
    ),
)


def demo_partner_id(data: PartnerData) -> uuid.UUID:
    return uuid.uuid5(_IDS, data.name)


async def load_demo_partners(session: AsyncSession) -> list[str]:
    """Creates the demo partners that are missing; returns their names."""
    created: list[str] = []
    for data in DEMO_PARTNERS:
        partner_id = demo_partner_id(data)
        if not await queries.partner_exists(session, partner_id):
            new = service.NewPartner(data=data, id=partner_id)
            await service.create_partner(session, DEMO_ACTOR, None, new)
            created.append(data.name)
    return created


def demo_partners_markdown() -> str:
    """The README's table of demo partners, generated from this module."""
    lines = ["| partner | role | city | VAT id |", "|---|---|---|---|"]
    for p in DEMO_PARTNERS:
        role = " and ".join(
            r for r, has in (("customer", p.is_customer), ("supplier", p.is_supplier)) if has
        )
        place = (
            f"{p.billing_address.city} ({p.billing_address.country})" if p.billing_address else ""
        )
        lines.append(f"| {p.name} | {role} | {place} | {p.vat_id or ''} |")
    return "\n".join(lines)

"""One client, one new external id, many simultaneous PUTs: exactly one partner (real commits)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db.models import AuditEvent, Partner, PartnerExternalId
from tests.factories.identity import bearer, signed_in
from tests.factories.partners import PARTNERS, by_external_id, new_external_id, upsert_body

CALLS = 20


async def test_twenty_simultaneous_upserts_of_one_new_external_id_create_one_partner(
    committed_app: FastAPI,
) -> None:
    app = committed_app
    shop = await signed_in(app, "webshop")
    other_shop = await signed_in(app, "webshop")
    external_id = new_external_id()
    url = by_external_id(external_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(client.put(url, json=upsert_body(), headers=bearer(app, shop)) for _ in range(CALLS)),
            # Another client's equal external id is its own key, racing alongside.
            client.put(url, json=upsert_body(), headers=bearer(app, other_shop)),
        )
        mine, theirs = responses[:CALLS], responses[CALLS]
        statuses = sorted(r.status_code for r in mine)
        assert statuses == [200] * (CALLS - 1) + [201], [r.text for r in mine]
        assert len({r.json()["id"] for r in mine}) == 1
        partner_id = mine[0].json()["id"]
        assert all(r.json()["version"] == 1 for r in mine)  # the repeats changed nothing
        created = next(r for r in mine if r.status_code == 201)
        assert created.headers["location"] == f"{PARTNERS}/{partner_id}"
        assert theirs.status_code == 201, theirs.text
        assert theirs.json()["id"] != partner_id

    async with app.state.db.sessions() as session:
        partners = await session.scalar(
            select(func.count()).select_from(Partner).where(Partner.created_by == shop.id)
        )
        claims = await session.scalar(
            select(func.count())
            .select_from(PartnerExternalId)
            .where(PartnerExternalId.client_id == shop.id)
        )
        audited = await session.scalar(
            select(func.count()).where(
                AuditEvent.resource_id == partner_id, AuditEvent.action == "partner.create"
            )
        )
        assert (partners, claims, audited) == (1, 1, 1)

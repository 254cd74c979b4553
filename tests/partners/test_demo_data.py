"""The demo partners: valid by the partner rules, and loaded once however often one asks."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent, Partner
from app.devdata.partners import DEMO_PARTNERS, load_demo_partners
from app.domain.partners import rules


def test_the_demo_partners_keep_the_rules_and_include_a_supplier() -> None:
    for data in DEMO_PARTNERS:
        assert rules.checked(data) == data  # already in normalized form
    assert sum(p.is_supplier for p in DEMO_PARTNERS) == 1
    assert sum(p.is_customer for p in DEMO_PARTNERS) >= 3
    assert any(p.vat_id and p.vat_id.startswith("DE") for p in DEMO_PARTNERS)


async def test_loading_the_demo_partners_twice_changes_nothing(session: AsyncSession) -> None:
    first = await load_demo_partners(session)
    assert first == [p.name for p in DEMO_PARTNERS]
    counts = select(
        select(func.count()).select_from(Partner).scalar_subquery(),
        select(func.count()).select_from(AuditEvent).scalar_subquery(),
    )
    before = (await session.execute(counts)).one()
    assert await load_demo_partners(session) == []
    assert (await session.execute(counts)).one() == before
    assert before[0] == len(DEMO_PARTNERS)

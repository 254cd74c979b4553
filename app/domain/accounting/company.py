"""The company the books are kept for: one per installation.

Setting it up chooses the chart of accounts and creates the chart's accounts in the same
transaction. The chart may be exchanged until the first journal entry is written, never after;
the other fields (name, address, tax numbers, fiscal year, currency) may change.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.models.accounting import Company
from app.db.prepared import Executor
from app.db.repositories.accounting import chart as repo
from app.domain.accounting.charts import Chart, template
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound

_UPDATE = AuditedChange("accounting.company.update", "accounting_company")
# Accounts made from a template get ids derived from the chart and number: the same on every
# installation, so exports and tests can name them.
_TEMPLATE_IDS = uuid.UUID("5b0a9d0e-3c1f-4d5e-9a7b-2c6f8e1d4a30")


@dataclass(frozen=True, slots=True)
class CompanyData:
    legal_name: str
    street: str
    postal_code: str
    city: str
    country: str
    tax_number: str | None
    vat_id: str | None
    fiscal_year_start_month: int
    base_currency: str
    chart: Chart


@dataclass(frozen=True, slots=True)
class SetUp:
    company: dict[str, Any]
    created: bool  # False: it existed and was changed


def _view(company: Company) -> dict[str, Any]:
    return {c.key: getattr(company, c.key) for c in Company.__table__.c}


def template_account_id(chart: Chart, number: str) -> uuid.UUID:
    return uuid.uuid5(_TEMPLATE_IDS, f"{chart.value}:{number}")


async def get_company(reader: AsyncConnection) -> dict[str, Any]:
    row = await repo.company_row(reader)
    if row is None:
        raise NotFound("the company is not set up yet: PUT /api/v1/accounting/company")
    return row


async def books_company(db: Executor) -> dict[str, Any]:
    """The company, for keeping its books: 409 (not 404) until it is set up, since what the
    caller asked for exists only once it is."""
    row = await repo.company_row(db)
    if row is None:
        raise Conflict("set the company up first: PUT /api/v1/accounting/company")
    return row


async def set_up_company(
    session: AsyncSession, actor: Actor, data: CompanyData, expected: ExpectedVersion
) -> SetUp:
    """Creates the company with its chart's accounts, or changes it (not its chart)."""
    # First thing, so that nothing booked in flight slips past the checks below. Changing
    # the company is rare; bookings only read it, and pay nothing for this.
    await repo.lock_company(session)
    existing = await repo.load_company(session)
    if existing is None:
        return SetUp(await _create(session, actor, data), created=True)
    await _check_booked_fields(session, existing, data)
    if data.chart.value != existing.chart:
        expected.check(existing.version)
        await _switch_chart(session, actor, existing, data.chart)
    fields = {k: v for k, v in asdict(data).items() if k != "chart"}

    def apply(company: Company) -> None:
        for name, value in fields.items():
            setattr(company, name, value)

    await apply_audited_change(
        session,
        actor,
        existing,
        expected=expected,
        snapshot=_audit_view,
        apply=apply,
        change=_UPDATE,
    )
    return SetUp(_view(existing), created=False)


async def _switch_chart(
    session: AsyncSession, actor: Actor, existing: Company, chart: Chart
) -> None:
    """Until the first journal entry the chart may still be exchanged: every account goes,
    the new template's come. Once anything is booked it is fixed (409)."""
    if await repo.has_entries(session):
        raise Conflict(
            f"the chart is {existing.chart} and entries are booked to it: it cannot be switched"
        )
    dropped = await repo.drop_accounts(session)
    created = await _add_template(session, chart)
    before = {"chart": existing.chart, "accounts": dropped}
    await record_change(
        session, actor, action="accounting.company.switch_chart",
        resource_type="accounting_company", resource_id=existing.id,
        before=before, after={"chart": chart.value, "accounts": created},
    )  # fmt: skip
    existing.chart = chart.value
    await session.flush()


# Fixed once anything is booked: they decide every entry's fiscal year and the reports' sums.
_FIXED_ONCE_BOOKED = ("fiscal_year_start_month", "base_currency")


async def _check_booked_fields(session: AsyncSession, existing: Company, data: CompanyData) -> None:
    changed = [f for f in _FIXED_ONCE_BOOKED if getattr(existing, f) != getattr(data, f)]
    if changed and await repo.has_entries(session):
        raise Conflict(f"{', '.join(changed)} cannot change once journal entries are booked")


async def _add_template(session: AsyncSession, chart: Chart) -> int:
    accounts = template(chart)
    await repo.add_accounts(
        session,
        [
            {
                "id": template_account_id(chart, a.number),
                "number": a.number,
                "name": a.name,
                "type": a.type.value,
                "tax_key": a.tax_key,
                "report_group": a.group,
            }
            for a in accounts
        ],
    )
    return len(accounts)


def _audit_view(company: Company) -> dict[str, Any]:
    return {k: v for k, v in _view(company).items() if k not in ("created_at", "updated_at")}


async def _create(session: AsyncSession, actor: Actor, data: CompanyData) -> dict[str, Any]:
    company = Company(id=repo.COMPANY_ID, **(asdict(data) | {"chart": data.chart.value}))
    try:
        await repo.add_company(session, company)
    except IntegrityError as exc:  # set up by a concurrent request
        raise Conflict("the company was set up meanwhile; fetch it and retry") from exc
    created = await _add_template(session, data.chart)
    await record_change(
        session,
        actor,
        action="accounting.company.set_up",
        resource_type="accounting_company",
        resource_id=company.id,
        before=None,
        after=_audit_view(company) | {"accounts_created": created},
    )
    return _view(company)

"""Queries for the company and its chart of accounts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import KeysetQuery, PageRequest
from app.db.models.accounting import Account, Company
from app.db.prepared import Executor, Prepared

COMPANY_ID = 1

_COMPANY = Prepared(select(*Company.__table__.c).where(Company.id == COMPANY_ID))
_ACCOUNT = Prepared(select(*Account.__table__.c).where(Account.id == bindparam("account_id")))
_ACCOUNTS = KeysetQuery(
    select(*Account.__table__.c),
    stamp=Account.updated_at,
    ident=Account.id,
    filters={
        "type": lambda value: Account.type == value,
        "is_active": lambda value: Account.is_active == value,
    },
)


async def company_row(reader: Executor) -> dict[str, Any] | None:
    return await _COMPANY.one_or_none(reader)


async def lock_company(session: AsyncSession) -> None:
    """Waits until every transaction that has read the company (a booking reads its fiscal
    year and currency, and the chart's accounts, with it) has ended, and makes new readers
    wait for this one: what it then finds booked stays all there is until it commits."""
    await session.execute(text("LOCK TABLE accounting_company IN ACCESS EXCLUSIVE MODE"))


async def load_company(session: AsyncSession) -> Company | None:
    return await session.get(Company, COMPANY_ID)


async def add_company(session: AsyncSession, company: Company) -> None:
    """IntegrityError when the company exists already."""
    session.add(company)
    await session.flush()


_ANY_ENTRY = Prepared(
    text(
        "SELECT EXISTS (SELECT FROM accounting_journal_entry)"
        " OR EXISTS (SELECT FROM accounting_fiscal_year)"
    )
)
_DROP_ACCOUNTS = Prepared(
    text("WITH gone AS (DELETE FROM accounting_account RETURNING 1) SELECT count(*) FROM gone")
)


async def has_entries(session: AsyncSession) -> bool:
    """Whether anything is booked: a journal entry (a draft too), or a fiscal year (a month
    closed, a year closed even while empty)."""
    return bool(await _ANY_ENTRY.scalar(session))


async def drop_accounts(session: AsyncSession) -> int:
    """Deletes the whole chart; only while no entry refers to an account."""
    return int(await _DROP_ACCOUNTS.scalar(session))


async def add_accounts(session: AsyncSession, accounts: Sequence[Mapping[str, Any]]) -> None:
    """Many accounts in one statement (each mapping: the columns but the timestamps)."""
    await session.execute(insert(Account), list(accounts))


async def add_account(session: AsyncSession, account: Account) -> None:
    """IntegrityError when the number (or the id) is taken."""
    session.add(account)
    await session.flush()


async def load_account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def account_row(reader: AsyncConnection, account_id: uuid.UUID) -> dict[str, Any] | None:
    return await _ACCOUNT.one_or_none(reader, account_id=account_id)


async def account_rows(
    reader: AsyncConnection, page: PageRequest, *, type_: str | None, is_active: bool | None
) -> tuple[list[dict[str, Any]], str | None]:
    return await _ACCOUNTS.page(reader, page, type=type_, is_active=is_active)

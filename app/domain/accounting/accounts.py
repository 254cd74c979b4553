"""The chart of accounts: accounts are added, renamed, regrouped and deactivated; their number
and type are fixed once made (postings refer to them), and none is ever deleted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.keyset import PageRequest
from app.db.models.accounting import Account
from app.db.repositories.accounting import chart as repo
from app.domain.accounting.charts import AccountType
from app.domain.actor import Actor
from app.domain.audit.service import record_change
from app.domain.changes import AuditedChange, apply_audited_change
from app.domain.concurrency import ExpectedVersion
from app.domain.errors import Conflict, NotFound

_NOT_FOUND = "no such account"
_UPDATE = AuditedChange("accounting.account.update", "accounting_account")


@dataclass(frozen=True, slots=True)
class NewAccount:
    number: str
    name: str
    type: AccountType
    report_group: str
    tax_key: str | None = None
    id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """None means "leave as it is"; `clear_tax_key` removes the tax key."""

    name: str | None = None
    report_group: str | None = None
    tax_key: str | None = None
    clear_tax_key: bool = False
    is_active: bool | None = None


def _view(account: Account) -> dict[str, Any]:
    return {c.key: getattr(account, c.key) for c in Account.__table__.c}


def _audit_view(account: Account) -> dict[str, Any]:
    return {
        k: str(v) if isinstance(v, uuid.UUID) else v
        for k, v in _view(account).items()
        if k not in ("created_at", "updated_at")
    }


async def create_account(session: AsyncSession, actor: Actor, new: NewAccount) -> dict[str, Any]:
    if await repo.load_company(session) is None:
        raise Conflict("set the company up first: it chooses the chart of accounts")
    account = Account(
        id=new.id or uuid.uuid4(),
        number=new.number,
        name=new.name,
        type=new.type.value,
        tax_key=new.tax_key,
        report_group=new.report_group,
    )
    try:
        await repo.add_account(session, account)
    except IntegrityError as exc:
        raise Conflict(f"an account numbered {new.number} (or with this id) exists") from exc
    await record_change(
        session,
        actor,
        action="accounting.account.create",
        resource_type="accounting_account",
        resource_id=account.id,
        before=None,
        after=_audit_view(account),
    )
    return _view(account)


async def update_account(
    session: AsyncSession,
    actor: Actor,
    account_id: uuid.UUID,
    expected: ExpectedVersion,
    changes: AccountChanges,
) -> dict[str, Any]:
    account = await repo.load_account(session, account_id)
    if account is None:
        raise NotFound(_NOT_FOUND)

    def apply(target: Account) -> None:
        if changes.name is not None:
            target.name = changes.name
        if changes.report_group is not None:
            target.report_group = changes.report_group
        if changes.tax_key is not None or changes.clear_tax_key:
            target.tax_key = changes.tax_key
        if changes.is_active is not None:
            target.is_active = changes.is_active

    await apply_audited_change(
        session,
        actor,
        account,
        expected=expected,
        snapshot=_audit_view,
        apply=apply,
        change=_UPDATE,
    )
    return _view(account)


async def get_account(reader: AsyncConnection, account_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.account_row(reader, account_id)
    if row is None:
        raise NotFound(_NOT_FOUND)
    return row


async def list_accounts(
    reader: AsyncConnection,
    page: PageRequest,
    *,
    type_: AccountType | None = None,
    is_active: bool | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest change first (`updated_since` mirrors changes)."""
    return await repo.account_rows(
        reader, page, type_=type_.value if type_ else None, is_active=is_active
    )

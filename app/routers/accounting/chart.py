"""The company and its chart of accounts. Reading needs `accounting:read`
(accountants, auditors, credit officers); changing needs `accounting:post` (accountants).
Front-office roles and integration clients hold neither."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path, Query, Response, status

from app.domain.accounting import accounts, company
from app.domain.accounting.charts import AccountType
from app.domain.identity.principal import Principal
from app.http.conditional import IfMatchHeader, parse_if_match, version_etag
from app.http.dependencies import Idempotent, PageParams, ReaderDep, SessionDep, actor_for, require
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.schemas.accounting import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    CompanyRead,
    CompanyWrite,
)
from app.schemas.common import Page

READ = require("accounting:read")
POST = require("accounting:post")

router = AreaRouter(prefix="/api/v1/accounting", tags=["accounting"], route_class=DatabaseRoute)

Reader = Annotated[Principal, READ]
Poster = Annotated[Principal, POST]
AccountId = Annotated[uuid.UUID, Path(description="The account's id")]


def versioned(row: Mapping[str, Any], response: Response) -> Mapping[str, Any]:
    response.headers["ETag"] = version_etag(row["version"])
    return row


@router.get(
    "/company",
    operation_id="accounting_get_company",
    response_model=CompanyRead,
    dependencies=[READ],
    responses=problem_responses(404),
)
async def accounting_get_company(reader: ReaderDep, response: Response) -> CompanyRead:
    """The company the books are kept for; 404 until it is set up."""
    return CompanyRead.model_validate(versioned(await company.get_company(reader), response))


@router.put(
    "/company",
    operation_id="accounting_set_up_company",
    response_model=CompanyRead,
    dependencies=[POST],
    responses={
        201: {"model": CompanyRead, "description": "Set up, with the chart's accounts"},
        **problem_responses(400, 409, 412),
    },
)
async def accounting_set_up_company(
    body: CompanyWrite,
    session: SessionDep,
    caller: Poster,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CompanyRead:
    """Set the company up (201: its accounts are created from the chosen chart: SKR03, SKR04
    or a generic one), or change it (200; `If-Match` guards against lost updates). Until the
    first journal entry another chart replaces the accounts whole; after it the chart, the
    fiscal year's start month and the base currency are fixed (409)."""
    data = company.CompanyData(**body.model_dump())
    done = await company.set_up_company(session, actor_for(caller), data, parse_if_match(if_match))
    if done.created:
        response.status_code = status.HTTP_201_CREATED
    return CompanyRead.model_validate(versioned(done.company, response))


@router.get(
    "/accounts",
    operation_id="accounting_list_accounts",
    response_model=Page[AccountRead],
    dependencies=[READ],
)
async def accounting_list_accounts(
    reader: ReaderDep,
    page: PageParams,
    type: Annotated[AccountType | None, Query(description="Only accounts of this type")] = None,
    is_active: Annotated[bool | None, Query(description="Only (in)active accounts")] = None,
) -> Page[AccountRead]:
    """The chart of accounts, oldest change first (`updated_since` mirrors changes)."""
    rows, next_cursor = await accounts.list_accounts(reader, page, type_=type, is_active=is_active)
    return Page(items=[AccountRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/accounts",
    operation_id="accounting_create_account",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    dependencies=[POST, Idempotent],
    responses=problem_responses(409),
)
async def accounting_create_account(
    body: AccountCreate, session: SessionDep, caller: Poster, response: Response
) -> AccountRead:
    """Add an account to the chart (409 when its number is taken, or before the company is
    set up)."""
    new = accounts.NewAccount(**body.model_dump())
    row = await accounts.create_account(session, actor_for(caller), new)
    response.headers["Location"] = f"{router.prefix}/accounts/{row['id']}"
    return AccountRead.model_validate(versioned(row, response))


@router.get(
    "/accounts/{account_id}",
    operation_id="accounting_get_account",
    response_model=AccountRead,
    dependencies=[READ],
    responses=problem_responses(404),
)
async def accounting_get_account(
    account_id: AccountId, reader: ReaderDep, response: Response
) -> AccountRead:
    return AccountRead.model_validate(
        versioned(await accounts.get_account(reader, account_id), response)
    )


@router.patch(
    "/accounts/{account_id}",
    operation_id="accounting_update_account",
    response_model=AccountRead,
    dependencies=[POST],
    responses=problem_responses(400, 404, 412),
)
async def accounting_update_account(
    account_id: AccountId,
    body: AccountUpdate,
    session: SessionDep,
    caller: Poster,
    response: Response,
    if_match: IfMatchHeader = None,
) -> AccountRead:
    """Rename, regroup, change the tax key (null removes it) or deactivate an account."""
    sent = body.model_fields_set
    changes = accounts.AccountChanges(
        name=body.name if "name" in sent else None,
        report_group=body.report_group if "report_group" in sent else None,
        tax_key=body.tax_key,
        clear_tax_key="tax_key" in sent and body.tax_key is None,
        is_active=body.is_active if "is_active" in sent else None,
    )
    row = await accounts.update_account(
        session, actor_for(caller), account_id, parse_if_match(if_match), changes
    )
    return AccountRead.model_validate(versioned(row, response))

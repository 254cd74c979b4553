"""What the accounting tests share: an accountant of a company set up on SKR03."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories.accounting import set_up_company
from tests.factories.identity import auth_headers


@pytest.fixture
async def accountant(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    """An accountant's headers; the company is set up (SKR03, fiscal year = calendar year)."""
    headers = await auth_headers(app, "accountant")
    await set_up_company(client, headers)
    return headers

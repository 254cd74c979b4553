"""The accounting API: the company and its chart, the journal, periods and reports."""

from fastapi import APIRouter

from app.routers.accounting import chart, journal

router = APIRouter()
for part in (chart.router, journal.router):
    router.include_router(part)

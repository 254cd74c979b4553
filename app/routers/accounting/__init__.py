"""The accounting API: the company and its chart, the journal, periods and reports."""

from fastapi import APIRouter

from app.routers.accounting import chart, exports, journal, periods, reports

router = APIRouter()
for part in (chart.router, journal.router, periods.router, reports.router, exports.router):
    router.include_router(part)

"""Exports of the posted journal for the tax advisor (a DATEV booking batch) and the tax
auditor (a GDPdU data carrier). Both need `accounting:read`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.domain.accounting import exports
from app.http.dependencies import ReaderDep
from app.http.downloads import download, file_download
from app.http.problems import problem_responses
from app.http.routing import AreaRouter, DatabaseRoute
from app.routers.accounting.chart import READ
from app.schemas.common import CalendarDate

router = AreaRouter(prefix="/api/v1/accounting", tags=["accounting"], route_class=DatabaseRoute)

DATEV_MEDIA_TYPE = "text/csv; charset=windows-1252"
ZIP_MEDIA_TYPE = "application/zip"
First = Annotated[
    CalendarDate, Query(alias="from", description="First posting date (`YYYY-MM-DD`)")
]
Last = Annotated[CalendarDate, Query(alias="to", description="Last posting date (`YYYY-MM-DD`)")]


@router.get(
    "/exports/datev",
    operation_id="accounting_export_datev",
    dependencies=[READ],
    response_class=Response,
    responses={
        200: {
            "description": "The DATEV booking batch (EXTF_Buchungsstapel_<from>_<to>.csv)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(409, 422),
    },
)
async def accounting_export_datev(
    reader: ReaderDep,
    first: First,
    last: Last,
    consultant_number: Annotated[
        int, Query(ge=1001, le=9_999_999, description="The tax advisor's DATEV Beraternummer")
    ] = 1001,
    client_number: Annotated[
        int, Query(ge=1, le=99_999, description="The company's DATEV Mandantennummer")
    ] = 1,
) -> Response:
    """The entries posted from `from` to `to` as a DATEV booking batch (DATEV-Format EXTF,
    Buchungsstapel version 13, Windows-1252) to import into DATEV: one booking per two-line
    entry, several for a split entry. The span must lie in one fiscal year (422 otherwise,
    and when it holds more than 99 999 bookings); 409 before the company is set up."""
    client = exports.DatevClient(consultant_number, client_number)
    content = await exports.datev_batch(reader, first, last, client)
    return download(content, DATEV_MEDIA_TYPE, f"EXTF_Buchungsstapel_{first}_{last}.csv")


@router.get(
    "/exports/gdpdu",
    operation_id="accounting_export_gdpdu",
    dependencies=[READ],
    response_class=Response,
    responses={
        200: {
            "description": "The GDPdU data carrier (GDPdU_<from>_<to>.zip)",
            "content": {ZIP_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(409, 422),
    },
)
async def accounting_export_gdpdu(reader: ReaderDep, first: First, last: Last) -> Response:
    """The entries posted from `from` to `to` (any span, typically a fiscal year) and the
    chart of accounts for a tax audit (GoBD data carrier, "Z3"): a ZIP of index.xml in the
    GDPdU description standard, its DTD and the CSV tables it describes. 409 before the
    company is set up."""
    carrier = await exports.gdpdu_data_carrier(reader, first, last)
    return file_download(carrier, ZIP_MEDIA_TYPE, f"GDPdU_{first}_{last}.zip")

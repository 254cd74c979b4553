"""The exports for the tax advisor and the auditor: the DATEV booking batch books exactly the
journal of its span, the GDPdU data carrier describes its tables as the standard's DTD
prescribes, and both refuse spans and callers they must."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI

from app.domain.accounting import exports
from tests.factories.accounting import ENTRIES, book, line, set_up_company
from tests.factories.identity import auth_headers

DATEV = "/api/v1/accounting/exports/datev"
GDPDU = "/api/v1/accounting/exports/gdpdu"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
async def march(client: httpx.AsyncClient, accountant: dict[str, str]) -> dict[str, Any]:
    """A month of postings: a two-line purchase, a split cash sale, a split payment, an entry
    whose document is older than its posting, a reversal; around it a draft and an entry of
    April, which stay out."""
    purchase = await book(
        client, accountant, day="2026-03-02", text="Wareneinkauf", document_ref="ER-17",
        lines=[line("3400", "debit", "200.00"), line("1200", "credit", "200.00")],
    )  # fmt: skip
    sale = await book(client, accountant, day="2026-03-15", text="Barverkauf Müller")
    await book(
        client, accountant, day="2026-03-16", text="Einkauf bar und Bank",
        document_ref="RE 2026.7",
        lines=[line("3400", "debit", "100.00"), line("1576", "debit", "19.00"),
               line("1200", "credit", "59.50"), line("1000", "credit", "59.50")],
    )  # fmt: skip
    await book(
        client, accountant, document_date="2026-02-27", posting_date="2026-03-03",
        text="Nachzügler", document_ref="KB-0002",
    )  # fmt: skip
    reversal = await client.post(
        f"{ENTRIES}/{purchase['id']}/reverse",
        json={"posting_date": "2026-03-20"},
        headers={**accountant, "Idempotency-Key": "storno-1"},
    )
    assert reversal.status_code == 201, reversal.text
    await book(client, accountant, post=False, day="2026-03-21")
    await book(client, accountant, day="2026-04-01")
    return {"sale": sale, "reversal": reversal.json()}


async def _ledger(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The posted entries of March, as the journal API shows them."""
    listed = await client.get(ENTRIES, params={"status": "posted", "limit": 500}, headers=headers)
    assert listed.status_code == 200, listed.text
    return [e for e in listed.json()["items"] if "2026-03-01" <= e["posting_date"] <= "2026-03-31"]


def _turnover(entries: Iterable[dict[str, Any]]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Per account: the debits and the credits of the entries."""
    debit: defaultdict[str, Decimal] = defaultdict(Decimal)
    credit: defaultdict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        for x in entry["lines"]:
            (debit if x["side"] == "debit" else credit)[x["account"]] += Decimal(x["amount"])
    return dict(debit), dict(credit)


def _unquote(field: str) -> str:
    return field[1:-1].replace('""', '"') if field.startswith('"') else field


def _datev_file(content: bytes) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """Header fields, column names and rows (column name to unquoted value)."""
    assert content.endswith(b"\r\n")
    assert content.count(b"\n") == content.count(b"\r\n"), "every line ends with CR LF"
    header, columns, *rows = content.decode("cp1252").removesuffix("\r\n").split("\r\n")
    names = columns.split(";")
    parsed = []
    for row in rows:
        fields = row.split(";")
        assert len(fields) == len(names), row
        parsed.append({n: _unquote(f) for n, f in zip(names, fields, strict=True)})
    return header.split(";"), names, parsed


async def test_the_datev_batch_books_exactly_the_journal_of_its_span(
    client: httpx.AsyncClient, accountant: dict[str, str], march: dict[str, Any], page_entries: int
) -> None:
    got = await client.get(
        DATEV, params=MARCH | {"consultant_number": 29098, "client_number": 55003},
        headers=accountant,
    )  # fmt: skip
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "text/csv; charset=windows-1252"
    assert got.headers["content-disposition"] == (
        'attachment; filename="EXTF_Buchungsstapel_2026-03-01_2026-03-31.csv"'
    )
    header, columns, rows = _datev_file(got.content)

    assert len(header) == 31
    assert header[:5] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]
    assert re.fullmatch(r"\d{17}", header[5])
    assert header[10:16] == ["29098", "55003", "20260101", "4", "20260301", "20260331"]
    assert (header[18], header[20], header[21], header[26]) == ("1", "1", '"EUR"', '"03"')
    assert len(columns) == 125
    assert columns[:14] == [
        "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
        "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
        "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    ]  # fmt: skip
    assert (columns[113], columns[124]) == ("Festschreibung", "Abw. Skontokonto")

    journal = await _ledger(client, accountant)
    debit: defaultdict[str, Decimal] = defaultdict(Decimal)
    credit: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert re.fullmatch(r"\d{1,10},\d{2}", row["Umsatz (ohne Soll/Haben-Kz)"]), row
        assert row["Soll/Haben-Kennzeichen"] == "S"
        konto, gegenkonto = row["Konto"], row["Gegenkonto (ohne BU-Schlüssel)"]
        assert re.fullmatch(r"\d{4}", konto), row
        assert re.fullmatch(r"\d{4}", gegenkonto), row
        assert konto != gegenkonto
        assert re.fullmatch(r"(0[1-9]|[12]\d|3[01])03", row["Belegdatum"]), row
        assert row["Buchungstext"]
        booked = Decimal(row["Umsatz (ohne Soll/Haben-Kz)"].replace(",", "."))
        debit[konto] += booked
        credit[gegenkonto] += booked
    # Each account is debited and credited as in the journal (DATEV's turnover), so its
    # balance (S minus H) is the ledger's too.
    assert (dict(debit), dict(credit)) == _turnover(journal)
    assert {row["Zusatzinformation- Inhalt 1"] for row in rows} == {
        f"{e['fiscal_year']}-{e['number']}" for e in journal
    }
    assert len(rows) == 1 + 2 + 3 + 2 + 1  # purchase, sale, payment, late document, storno


async def test_datev_rows_carry_the_entry_text_document_and_posting_date(
    client: httpx.AsyncClient, accountant: dict[str, str], march: dict[str, Any]
) -> None:
    got = await client.get(DATEV, params=MARCH, headers=accountant)
    assert got.status_code == 200, got.text
    header, _, rows = _datev_file(got.content)
    assert header[10:12] == ["1001", "1"]
    assert "Barverkauf Müller".encode("cp1252") in got.content

    def of(reference: str) -> list[tuple[str, ...]]:
        return [
            (r["Umsatz (ohne Soll/Haben-Kz)"], r["Konto"], r["Gegenkonto (ohne BU-Schlüssel)"],
             r["Belegdatum"], r["Belegfeld 1"], r["Buchungstext"],
             r["Zusatzinformation- Inhalt 2"])
            for r in rows if r["Zusatzinformation- Inhalt 1"] == reference
        ]  # fmt: skip

    sale = march["sale"]["number"]
    assert of("2026-1") == [
        ("200,00", "3400", "1200", "0203", "ER-17", "Wareneinkauf", "02.03.2026")
    ]
    assert of(f"2026-{sale}") == [
        ("100,00", "1000", "8400", "1503", "KB-0001", "Barverkauf Müller", "15.03.2026"),
        ("19,00", "1000", "1776", "1503", "KB-0001", "Barverkauf Müller", "15.03.2026"),
    ]
    # Belegdatum is the posting date (DATEV's period); the document's own date is noted.
    assert of("2026-4") == [
        ("100,00", "1000", "8400", "0303", "KB-0002", "Nachzügler", "27.02.2026"),
        ("19,00", "1000", "1776", "0303", "KB-0002", "Nachzügler", "27.02.2026"),
    ]
    payment = [r for r in rows if r["Zusatzinformation- Inhalt 1"] == "2026-3"]
    assert {r["Belegfeld 1"] for r in payment} == {"RE-2026-7"}
    assert {r["Zusatzinformation- Inhalt 3"] for r in payment} == {"RE 2026.7"}
    storno = march["reversal"]
    assert of(f"2026-{storno['number']}") == [
        ("200,00", "1200", "3400", "2003", "ER-17", storno["text"], "20.03.2026")
    ]
    # 8400 and 3400 are Automatikkonten: BU 40 keeps DATEV from taking VAT out a second time.
    keys = {(r["Konto"], r["Gegenkonto (ohne BU-Schlüssel)"]): r["BU-Schlüssel"] for r in rows}
    assert (keys[("1000", "8400")], keys[("3400", "1200")], keys[("1000", "1776")]) == (
        "40",
        "40",
        "",
    )


async def test_a_datev_batch_of_a_fiscal_year_from_july_starts_the_year_in_july(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await auth_headers(app, "accountant")
    await set_up_company(client, headers, fiscal_year_start_month=7)
    await book(client, headers, day="2027-01-10")
    got = await client.get(DATEV, params={"from": "2026-12-01", "to": "2027-01-31"},
                           headers=headers)  # fmt: skip
    assert got.status_code == 200, got.text
    header, _, rows = _datev_file(got.content)
    assert header[12:16] == ["20260701", "4", "20261201", "20270131"]
    assert [r["Belegdatum"] for r in rows] == ["1001", "1001"]


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        (DATEV, {"from": "2026-12-01", "to": "2027-01-31"}, "to"),
        (DATEV, {"from": "2026-03-31", "to": "2026-03-01"}, "to"),
        (GDPDU, {"from": "2026-03-31", "to": "2026-03-01"}, "to"),
        (DATEV, MARCH | {"consultant_number": 1000}, "consultant_number"),
        (DATEV, MARCH | {"client_number": 100000}, "client_number"),
        (DATEV, {"from": "01.03.2026", "to": "2026-03-31"}, "from"),
        (GDPDU, {"to": "2026-03-31"}, "from"),
    ],
)
async def test_spans_and_numbers_the_exports_cannot_take_are_422(
    client: httpx.AsyncClient,
    accountant: dict[str, str],
    path: str,
    params: dict[str, Any],
    parameter: str,
) -> None:
    refused = await client.get(path, params=params, headers=accountant)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert parameter in [e.get("parameter") for e in refused.json()["errors"]], refused.text


@pytest.mark.parametrize("path", [DATEV, GDPDU])
async def test_before_the_company_is_set_up_the_exports_are_409(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    headers = await auth_headers(app, "accountant")
    refused = await client.get(path, params=MARCH, headers=headers)
    assert refused.status_code == 409, refused.text
    assert "company" in refused.json()["detail"]


@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("hr_manager", 403)])
async def test_exports_need_accounting_read(
    app: FastAPI, client: httpx.AsyncClient, accountant: dict[str, str], role: str, status: int
) -> None:
    headers = await auth_headers(app, role)
    for path in (DATEV, GDPDU):
        got = await client.get(path, params=MARCH, headers=headers)
        assert got.status_code == status, got.text
    assert (await client.get(GDPDU, params=MARCH)).status_code == 401


def _content_models(dtd: str) -> dict[str, str]:
    """Element name to content model, from the DTD's declarations (comments dropped)."""
    declarations = re.sub(r"<!--.*?-->", "", dtd, flags=re.S)
    return dict(re.findall(r"<!ELEMENT\s+(\w+)\s+([^>]+)>", declarations))


def _children_pattern(model: str) -> re.Pattern[str]:
    """A DTD content model as a regex over the children's tags, each followed by a comma."""
    tokens = re.findall(r"\w+|[()|?*+]", model)
    return re.compile("".join(f"(?:{t},)" if t[0].isalnum() else t for t in tokens))


def _check_against_dtd(element: ElementTree.Element, models: dict[str, str]) -> None:
    model = models[element.tag].strip()
    children = "".join(f"{child.tag}," for child in element)
    if model in ("EMPTY", "(#PCDATA)"):
        assert not children, element.tag
        assert model != "EMPTY" or not (element.text or "").strip(), element.tag
    else:
        assert _children_pattern(model).fullmatch(children), (element.tag, children)
    for child in element:
        _check_against_dtd(child, models)


def _tables(archive: zipfile.ZipFile, index: ElementTree.Element) -> dict[str, dict[str, Any]]:
    """Per table Name: its columns and records, read as index.xml says."""
    tables = {}
    for table in index.iter("Table"):
        url = table.findtext("URL")
        assert url in archive.namelist()
        assert table.find("UTF8") is not None
        layout = table.find("VariableLength")
        assert layout is not None
        delimiter, end = layout.findtext("ColumnDelimiter"), layout.findtext("RecordDelimiter")
        assert (delimiter, end, layout.findtext("TextEncapsulator")) == (";", "\r\n", '"')
        columns = [c.findtext("Name") for c in layout if c.tag.startswith("Variable")]
        text = archive.read(url).decode("utf-8")
        assert text.endswith(end)
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        skip = int(table.findtext("Range/From") or 1) - 1
        assert records[0] == columns, url  # the line Range/From skips names the columns
        for record in records[skip:]:
            assert len(record) == len(columns), (url, record)
        keys = [k.findtext("Name") for k in layout.iter("VariablePrimaryKey")]
        foreign = [([n.text for n in fk.iter("Name")], fk.findtext("References"))
                   for fk in layout.iter("ForeignKey")]  # fmt: skip
        rows = [dict(zip(columns, r, strict=True)) for r in records[skip:]]
        tables[table.findtext("Name") or url] = {"keys": keys, "foreign": foreign, "rows": rows}
    return tables


@pytest.fixture(params=[2000, 5, 2], ids=["one-page", "full-pages", "pages-of-2"])
def page_entries(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The exports read the journal a page at a time (March holds five posted entries): one
    page, pages that end exactly with the span, and a last page half full."""
    size: int = request.param
    monkeypatch.setattr(exports, "_PAGE_ENTRIES", size)
    return size


async def test_a_gdpdu_carrier_across_fiscal_years_holds_the_span_and_nothing_around_it(
    app: FastAPI, client: httpx.AsyncClient, page_entries: int
) -> None:
    """Fiscal years from July: a span from mid-June to the end of next June takes the end of
    one fiscal year and the whole next one, and the pages cross from one year's numbers to the
    next; what was posted before the span in its first year and after it stays out."""
    headers = await auth_headers(app, "accountant")
    await set_up_company(client, headers, fiscal_year_start_month=7)
    booked = {
        day: await book(client, headers, day=day, text=f"Buchung {day}")
        for day in ["2026-06-01", "2026-06-30", "2026-07-01", "2026-12-31", "2027-06-30",
                    "2027-07-01"]
    }  # fmt: skip
    got = await client.get(GDPDU, params={"from": "2026-06-15", "to": "2027-06-30"},
                           headers=headers)  # fmt: skip
    assert got.status_code == 200, got.text
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    index = ElementTree.fromstring(archive.read("index.xml"))  # noqa: S314 (our own output)
    entries = _tables(archive, index)["Buchungen"]["rows"]
    expected = [booked[day] for day in ["2026-06-30", "2026-07-01", "2026-12-31", "2027-06-30"]]
    assert [(e["WIRTSCHAFTSJAHR"], e["BUCHUNGSNUMMER"], e["BUCHUNGSTEXT"]) for e in entries] == [
        (str(e["fiscal_year"]), str(e["number"]), e["text"]) for e in expected
    ]
    assert len({e["fiscal_year"] for e in expected}) == 2


async def test_the_gdpdu_carrier_describes_its_tables_and_holds_the_journal(
    client: httpx.AsyncClient, accountant: dict[str, str], march: dict[str, Any], page_entries: int
) -> None:
    got = await client.get(GDPDU, params=MARCH, headers=accountant)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert got.headers["content-length"] == str(len(got.content))
    assert got.headers["content-disposition"] == (
        'attachment; filename="GDPdU_2026-03-01_2026-03-31.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    raw_index = archive.read("index.xml")
    assert b'<!DOCTYPE DataSet SYSTEM "gdpdu-01-09-2004.dtd">' in raw_index
    index = ElementTree.fromstring(raw_index)  # noqa: S314 (our own output)
    _check_against_dtd(index, _content_models(archive.read("gdpdu-01-09-2004.dtd").decode()))
    assert index.findtext("DataSupplier/Name") == "Muster Handels GmbH"

    tables = _tables(archive, index)
    assert set(tables) == {"Sachkonten", "Buchungen", "Buchungszeilen"}
    for table in tables.values():  # every foreign key finds the row it names
        for columns, referenced in table["foreign"]:
            target = tables[referenced]
            assert len(columns) == len(target["keys"])
            known = {tuple(r[k] for k in target["keys"]) for r in target["rows"]}
            assert all(tuple(r[c] for c in columns) in known for r in table["rows"])

    journal = await _ledger(client, accountant)
    entries = tables["Buchungen"]["rows"]
    assert [(int(e["WIRTSCHAFTSJAHR"]), int(e["BUCHUNGSNUMMER"])) for e in entries] == sorted(
        (e["fiscal_year"], e["number"]) for e in journal
    )
    storno = next(e for e in entries if e["BUCHUNGSART"] == "Storno")
    assert (storno["STORNO_WIRTSCHAFTSJAHR"], storno["STORNO_BUCHUNGSNUMMER"]) == ("2026", "1")
    late = next(e for e in entries if e["BELEGNUMMER"] == "KB-0002")
    assert (late["BUCHUNGSDATUM"], late["BELEGDATUM"]) == ("03.03.2026", "27.02.2026")

    lines = tables["Buchungszeilen"]["rows"]
    soll = sum(Decimal(r["SOLL"].replace(",", ".")) for r in lines)
    haben = sum(Decimal(r["HABEN"].replace(",", ".")) for r in lines)
    debit, credit = _turnover(journal)
    assert soll == haben == sum(debit.values()) == sum(credit.values()) == Decimal("757.00")
    accounts = {r["KONTO"]: r for r in tables["Sachkonten"]["rows"]}
    assert accounts["1000"]["BEZEICHNUNG"] == "Kasse"
    assert accounts["0027"]["KONTOART"] == "Aktivkonto"

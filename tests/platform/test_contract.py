from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from itertools import product
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from app.cli import contract_settings
from app.http.openapi import CONTRACT_PATH, render_contract
from app.main import create_app
from app.schemas.common import BOOK_DATE_PATTERN, CalendarDate, Name


def test_committed_contract_matches_the_app() -> None:
    """Regenerate with `backoffice openapi` when this fails."""
    assert CONTRACT_PATH.read_text() == render_contract(create_app(contract_settings()))


def test_every_error_response_is_a_problem_document() -> None:
    spec = create_app(contract_settings()).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (
                        f"{method.upper()} {path} {status}"
                    )


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_the_contract_s_patterns_mean_the_same_to_every_regex_engine() -> None:
    """`\\s`, `\\d`, `\\w` and `\\b` mean other characters in ECMA-262 (how clients and
    schemathesis read the contract) than on the server: a generated client would send U+0085
    as a visible character and get a 422."""
    class_escape = re.compile(r"(?<!\\)(?:\\\\)*\\[sSdDwWbB]")
    spec = create_app(contract_settings()).openapi()
    found = sorted({p for p in _patterns(spec) if class_escape.search(p)})
    assert found == []


@pytest.mark.parametrize("blank", ["\u0085", "\ufeff", "\u00a0", "\u2028", "\u3000", " \t"])
def test_a_name_of_only_blank_or_invisible_characters_is_refused(blank: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Name).validate_python(blank)


def test_a_name_keeps_its_letters_and_loses_its_surrounding_spaces() -> None:
    assert TypeAdapter(Name).validate_python("\u00a0 Zoë Müller-Lüdenscheidt ") == (
        "Zoë Müller-Lüdenscheidt"
    )


@pytest.mark.parametrize("year", [1900, 2000, 2026, 2999])
def test_the_contract_s_book_date_pattern_admits_the_dates_and_hardly_anything_else(
    year: int,
) -> None:
    """A fuzzer draws from the pattern when the format's years miss it: if the pattern let any
    month and day through, nearly every draw would be thrown away (schemathesis gives up with
    "filter_too_much" on two such parameters)."""
    pattern = re.compile(BOOK_DATE_PATTERN)
    admitted_non_dates = []
    for month, day in product(range(100), range(100)):
        text = f"{year}-{month:02}-{day:02}"
        try:
            date.fromisoformat(text)
        except ValueError:
            if pattern.fullmatch(text):
                admitted_non_dates.append(text)
        else:
            assert pattern.fullmatch(text), text
    # Only the days 29 to 31 a month does not have slip through; the server refuses them.
    assert all(text[-2:] in {"29", "30", "31"} for text in admitted_non_dates)
    assert len(admitted_non_dates) <= 7


@pytest.mark.parametrize("text", ["1899-12-31", "3000-01-01", "2026-13-01", "2026-02-30"])
def test_a_book_date_outside_the_pattern_or_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(CalendarDate).validate_python(text)

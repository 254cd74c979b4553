from __future__ import annotations

from app.cli import contract_settings
from app.http.openapi import CONTRACT_PATH, render_contract
from app.main import create_app


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

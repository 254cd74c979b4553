from __future__ import annotations

from app.devdata.readme import README_PATH, render_readme


def test_generated_readme_sections_are_current() -> None:
    """The role matrix and demo users come from code; run `backoffice readme` when this fails."""
    text = README_PATH.read_text()
    assert text == render_readme(text)


def test_readme_gives_the_two_commands() -> None:
    text = README_PATH.read_text()
    assert "./scripts/serve" in text
    assert "./scripts/test" in text

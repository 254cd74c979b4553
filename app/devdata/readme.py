"""README sections generated from code (role matrix, demo users and partners): `backoffice
readme` writes them, and a test fails when the committed README differs."""

from __future__ import annotations

from pathlib import Path

from app.devdata.identity import demo_users_markdown
from app.devdata.partners import demo_partners_markdown
from app.domain.identity.roles import PERMISSIONS, ROLES, Office

README_PATH = Path(__file__).resolve().parents[2] / "README.md"


def role_matrix_markdown() -> str:
    roles = list(ROLES.values())
    header = "| permission | office | " + " | ".join(r.name for r in roles) + " |"
    rule = "|---|---|" + "---|" * len(roles)
    rows = [
        f"| `{p.name}` | {p.office.value} | "
        + " | ".join("✓" if p.name in r.permissions else "" for r in roles)
        + " |"
        for p in PERMISSIONS.values()
    ]
    legend = [
        "",
        "Roles: "
        + "; ".join(
            f"**{r.name}** ({r.office.value} office, {r.holder.value}) {r.description.lower()}"
            for r in roles
        )
        + ".",
        "",
        f"Front-office roles never hold a {Office.back.value}-office permission (tested).",
    ]
    return "\n".join([header, rule, *rows, *legend])


SECTIONS = {
    "roles": role_matrix_markdown,
    "demo-users": demo_users_markdown,
    "demo-partners": demo_partners_markdown,
}


def render_readme(text: str) -> str:
    for name, render in SECTIONS.items():
        begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
        head, found_begin, rest = text.partition(begin)
        _, found_end, tail = rest.partition(end)
        if not (found_begin and found_end):
            raise ValueError(f"README lacks the <!-- {name}:begin/end --> markers")
        text = head + begin + render() + "\n" + end + tail
    return text

"""The schemathesis CLI against the real server: the committed contract, `--checks all`.

Unlike test_schemathesis.py (in-process), this runs what a client meets: `backoffice serve`
with its uvicorn, middleware and real commits, on a scratch database, driven by `st run` over
HTTP, through schemathesis's examples, fuzzing and stateful sequences that follow links it
infers from the responses (the coverage phase's boundary values are sent in-process, see
LIVE_PHASES). One run per role, each on a server and database of its own, so an admin's run
cannot touch the account of another role's run.

Configuration (sign-in through the token endpoint, expected statuses) lives in
tests/platform/schemathesis.toml, the hooks in tests/platform/schemathesis_cli_hooks.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from app.cli import contract_settings
from app.domain.identity.roles import ROLES, HolderKind, permissions_of
from app.http.openapi import CONTRACT_PATH
from app.http.route_policy import api_routes, permission_requirements
from app.main import create_app
from tests.databases import scratch_database
from tests.platform.schemathesis_cli_hooks import CALLER_ID_VARIABLE
from tests.platform.test_cli import (
    BACKOFFICE,
    COMMAND_TIMEOUT,
    child_env,
    free_port,
    log_tail,
    serving,
    stop,
    wait_for_health,
)

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).parent / "st"
CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "a long enough password"
# Per operation, for fuzzing.
MAX_EXAMPLES = 10
RUN_TIMEOUT = 900.0
# No coverage phase: it sends every ISO country and currency code of the contract's enums and
# was most of a run (189 s of the admin's 234 s on 2 busy cores), while the in-process run
# (test_schemathesis.py) sends the same boundary values to every operation already.
LIVE_PHASES = "examples,fuzzing,stateful"


def _operations_denied_to(role: str) -> set[str]:
    """`METHOD /path` of every operation that needs a permission `role` does not hold, or that
    is for integration clients only while `role` is held by people."""
    granted = permissions_of([role])
    is_client = ROLES[role].holder is HolderKind.client
    denied = set()
    for route in api_routes(create_app(contract_settings())):
        requirements = permission_requirements(route)
        needed = [frozenset(r.permissions) for r in requirements if r.permissions]
        for_clients = any(r.clients_only for r in requirements)
        if not all(any_of & granted for any_of in needed) or (for_clients and not is_client):
            denied |= {f"{method} {route.path_format}" for method in route.methods or ()}
    return denied


def _create_user(env: dict[str, str], email: str, role: str) -> None:
    created = subprocess.run(
        [str(BACKOFFICE), "create-user", "--email", email, "--role", role],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert created.returncode == 0, created.stderr


def _caller_id(base_url: str, email: str) -> str:
    """Signs in through the real token endpoint, as the run will; the id /auth/me names."""
    token = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": PASSWORD},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    me = httpx.get(
        f"{base_url}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200, me.text
    caller_id: str = me.json()["id"]
    return caller_id


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "receptionist"])
def test_the_schemathesis_cli_finds_no_failure_against_the_live_server(
    server_url: URL, tmp_path: Path, role: str
) -> None:
    with scratch_database(server_url, "stcli") as url:
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = child_env(
            DATABASE_URL=database_url,
            BACKOFFICE_JWT_SECRET="st" * 20,
            BACKOFFICE_LOG_LEVEL="WARNING",
            # The run is one source sending thousands of wrong passwords: under the default
            # limit the throttle would answer the token endpoint (and the run's own sign-in)
            # with 429 after 20 of them. Throttling has tests of its own.
            BACKOFFICE_LOGIN_MAX_FAILURES="1000000",
        )
        port, log = free_port(), tmp_path / "serve.log"
        base_url = f"http://127.0.0.1:{port}"
        with serving(["--port", str(port), "--workers", "1"], env, log) as proc:
            wait_for_health(proc, base_url, log)
            email = f"{role.replace('_', '.')}@example.com"
            _create_user(env, email, role)
            st_env = child_env(
                PYTHONPATH=str(ROOT),  # for the hooks module named in schemathesis.toml
                ST_USERNAME=email,
                ST_PASSWORD=PASSWORD,
                **{CALLER_ID_VARIABLE: _caller_id(base_url, email)},
            )
            report = tmp_path / "report.json"
            # `--config-file` goes before `run`: it is an option of `st` itself.
            run = subprocess.run(
                [
                    str(ST),
                    "--config-file",
                    str(CONFIG),
                    "run",
                    str(CONTRACT_PATH),
                    "--url",
                    base_url,
                    "--checks",
                    "all",
                    "--max-examples",
                    str(MAX_EXAMPLES),
                    "--phases",
                    LIVE_PHASES,
                    "--no-color",
                    "--report",
                    "json",
                    "--report-json-path",
                    str(report),
                ],
                env=st_env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
            )
            output = f"{run.stdout}\n{run.stderr}\nserve log:\n{log_tail(log)}"
            assert run.returncode == 0, output
            assert stop(proc, log) == 0, log_tail(log)
    summary = json.loads(report.read_text())
    assert summary["complete"], output
    assert summary["operations"]["tested"] == summary["operations"]["total"], output
    # The run kept its session: it signed in again after each sign-out, and the only operations
    # that answered nothing but 401/403 are those the role has no permission for.
    assert not summary["auth"]["reauth_broke"], output
    assert set(summary["warnings"]["missing_auth"]) == _operations_denied_to(role), output

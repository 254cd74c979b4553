"""What the foundation costs per request, as ratios against bare FastAPI in the same run.

Starts `backoffice serve` on a scratch database (DATABASE_URL's server, else the embedded one),
loads it with wrk (Debian package `wrk`) and prints requests/s for:

  bare          FastAPI with one trivial route, same uvicorn settings (the baseline)
  healthz       + our middleware (request id, access log, body cap, error mapping)
  roles         + bearer-token verification, no database
  users_page    + token + one transaction with a one-row keyset query (the ORM path)

Usage: .venv/bin/python bench/request_overhead.py [--seconds 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.domain.identity.principal import Principal, PrincipalKind  # noqa: E402
from app.domain.identity.roles import permissions_of  # noqa: E402
from app.main import signing_key_for  # noqa: E402
from app.security.tokens import TokenService  # noqa: E402
from tests.databases import postgres_server, scratch_database  # noqa: E402

SECRET = "bench-secret-" + "b" * 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def _admin_token(data_dir: Path) -> str:
    settings = Settings(jwt_secret=SECRET, data_dir=data_dir)  # type: ignore[arg-type]
    service = TokenService(
        signing_key_for(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(minutes=settings.access_token_minutes),
    )
    principal = Principal(
        PrincipalKind.user, uuid.uuid4(), frozenset({"admin"}), permissions_of(["admin"])
    )
    return service.issue(principal.subject, principal.roles).token


def _wrk(url: str, seconds: int, connections: int, token: str | None) -> float:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def _bare_framework(seconds: int, connections: int) -> float:
    port = _free_port()
    uvicorn = Path(sys.executable).parent / "uvicorn"
    proc = subprocess.Popen(
        [
            str(uvicorn),
            "bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=Path(__file__).parent,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz")
        return _wrk(f"http://127.0.0.1:{port}/healthz", seconds, connections, None)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="backoffice-bench-"))
    with postgres_server() as server, scratch_database(server, "bench") as url:
        port = _free_port()
        env = os.environ | {
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "BACKOFFICE_JWT_SECRET": SECRET,
            "BACKOFFICE_DATA_DIR": str(data_dir),
            "BACKOFFICE_LOG_LEVEL": "WARNING",
        }
        cli = Path(sys.executable).parent / "backoffice"
        proc = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base}/readyz")
            token = _admin_token(data_dir)
            results = {
                "bare": _bare_framework(args.seconds, args.connections),
                "healthz": _wrk(f"{base}/healthz", args.seconds, args.connections, None),
                "roles": _wrk(f"{base}/api/v1/auth/roles", args.seconds, args.connections, token),
                "users_page": _wrk(
                    f"{base}/api/v1/admin/users?limit=1", args.seconds, args.connections, token
                ),
            }
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            shutil.rmtree(data_dir, ignore_errors=True)
    baseline = results["bare"]
    print(f"{'path':<12} {'req/s':>10} {'vs bare':>8}")
    for name, rps in results.items():
        print(f"{name:<12} {rps:>10.0f} {rps / baseline:>7.2f}x")


if __name__ == "__main__":
    main()

"""What the benchmarks share: a scratch database, the server under test, wrk, the report.

Every benchmark starts the app as served (one uvicorn worker unless told otherwise) with the
floor routes of bench/floor_app.py mounted, on a scratch database of TEST_DATABASE_URL's or
DATABASE_URL's server (else an embedded one), and measures paths in interleaved rounds, each
figure the median over the rounds, so a neighbour's burst of load lands on every path alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.databases import postgres_server, scratch_database  # noqa: E402

SECRET = "bench-secret-" + "b" * 32
BIN = Path(sys.executable).parent


@dataclass(frozen=True, slots=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class Target:
    """One measured path: a URL, an optional bearer token, an optional wrk Lua script."""

    url: str
    token: str | None = None
    script: Path | None = None
    connections: int | None = None


@dataclass(frozen=True, slots=True)
class Server:
    base: str
    env: dict[str, str]
    database_url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def call(
    url: str,
    *,
    form: dict[str, str] | None = None,
    body: object = None,
    method: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, object]:
    """One request to the server under test; the JSON answer (empty for 204)."""
    data = None
    all_headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
    elif body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 (loopback)
        raw = r.read()
    return json.loads(raw) if raw else {}


def millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(path: Target, seconds: int, connections: int) -> Load:
    cmd = ["wrk", "-t1", f"-c{path.connections or connections}", f"-d{seconds}s", "--latency"]
    if path.token:
        cmd += ["-H", f"Authorization: Bearer {path.token}"]
    if path.script:
        cmd += ["-s", str(path.script)]
    out = subprocess.run([*cmd, path.url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{path.url}: {non_2xx.group(1)} error responses\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return Load(float(rps.group(1)), millis(p50.group(1)), millis(p99.group(1)))


def measure(
    paths: dict[str, Target], *, seconds: int, rounds: int, connections: int
) -> dict[str, Load]:
    for path in paths.values():  # warm up: pools, caches, code paths
        wrk(path, 2, connections)
    runs: dict[str, list[Load]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, path in paths.items():
            runs[name].append(wrk(path, seconds, connections))
    return {
        name: Load(
            statistics.median(r.rps for r in loads),
            statistics.median(r.p50_ms for r in loads),
            statistics.median(r.p99_ms for r in loads),
        )
        for name, loads in runs.items()
    }


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, check=True)
    return done.stdout


@contextmanager
def served_app(workers: int = 1) -> Iterator[Server]:
    """The migrated app with the floor routes, on a scratch database, until the block ends."""
    data_dir = Path(tempfile.mkdtemp(prefix="backoffice-bench-"))
    with postgres_server() as server, scratch_database(server, "bench") as url:
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = os.environ | {
            "DATABASE_URL": database_url,
            "BACKOFFICE_JWT_SECRET": SECRET,
            "BACKOFFICE_DATA_DIR": str(data_dir),
            "BACKOFFICE_LOG_LEVEL": "WARNING",
        }
        run([str(BIN / "backoffice"), "migrate"], env)
        port = free_port()
        server_cmd = [
            str(BIN / "uvicorn"), "bench.floor_app:create_bench_app", "--factory",
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--no-proxy-headers", "--log-level", "warning",
        ]  # fmt: skip
        proc = subprocess.Popen(server_cmd, env=env, cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/readyz")
            yield Server(base, env, database_url)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            shutil.rmtree(data_dir, ignore_errors=True)


def sign_in_admin(server: Server, email: str, password: str) -> tuple[str, str]:
    """Creates an admin with the real CLI and signs in: (user id, access token)."""
    created = run(
        [str(BIN / "backoffice"), "create-user", "--email", email, "--role", "admin"],
        server.env,
        stdin=password + "\n",
    )
    user_id = re.search(r"\(([0-9a-f-]{36})\)", created).group(1)  # type: ignore[union-attr]
    form = {"grant_type": "password", "username": email, "password": password}
    token = call(f"{server.base}/api/v1/auth/token", form=form)["access_token"]
    return user_id, str(token)


def report(results: dict[str, Load], floor: str, header: str) -> None:
    base = results[floor]
    print(header)
    print(f"{'path':<16} {'req/s':>8} {'x floor':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99 x fl':>9}")
    for name, load in results.items():
        print(
            f"{name:<16} {load.rps:>8.0f} {load.rps / base.rps:>8.2f} {load.p50_ms:>8.2f} "
            f"{load.p99_ms:>8.2f} {load.p99_ms / base.p99_ms:>9.2f}"
        )

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
    # CPU time per request, of the server's processes and of all PostgreSQL processes: where
    # the time goes when a path misses its target.
    server_cpu_us: float = 0.0
    db_cpu_us: float = 0.0


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
    pid: int


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server (its process and its workers) and by every
    PostgreSQL process on the machine (their own, not their children's)."""
    server = database = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])
        if int(entry.name) == server_pid or int(fields[1]) == server_pid:
            server += ticks
        elif name.startswith("postgres"):
            database += ticks
    return server / _TICKS, database / _TICKS


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


def wrk(path: Target, seconds: int, connections: int, server_pid: int | None = None) -> Load:
    cmd = ["wrk", "-t1", f"-c{path.connections or connections}", f"-d{seconds}s", "--latency"]
    if path.token:
        cmd += ["-H", f"Authorization: Bearer {path.token}"]
    if path.script:
        cmd += ["-s", str(path.script)]
    before = _cpu_seconds(server_pid) if server_pid else (0.0, 0.0)
    out = subprocess.run([*cmd, path.url], capture_output=True, text=True, check=True).stdout
    after = _cpu_seconds(server_pid) if server_pid else (0.0, 0.0)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{path.url}: {non_2xx.group(1)} error responses\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    requests = max(float(rps.group(1)) * seconds, 1.0)
    server_us, db_us = ((a - b) / requests * 1e6 for a, b in zip(after, before, strict=True))
    return Load(float(rps.group(1)), millis(p50.group(1)), millis(p99.group(1)), server_us, db_us)


def measure(
    paths: dict[str, Target],
    *,
    seconds: int,
    rounds: int,
    connections: int,
    server: Server | None = None,
) -> dict[str, Load]:
    for path in paths.values():  # warm up: pools, caches, code paths
        wrk(path, 2, connections)
    pid = server.pid if server else None
    runs: dict[str, list[Load]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, path in paths.items():
            runs[name].append(wrk(path, seconds, connections, pid))
    return {
        name: Load(
            *(statistics.median(getattr(r, f) for r in loads) for f in Load.__dataclass_fields__)
        )
        for name, loads in runs.items()
    }


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, check=True)
    return done.stdout


@contextmanager
def scratch_env() -> Iterator[dict[str, str]]:
    """A migrated scratch database and the environment a server of the app runs with on it."""
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
        try:
            yield env
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def serving(env: dict[str, str], workers: int = 1) -> Iterator[Server]:
    """The app with the floor routes, served with `env`, until the block ends."""
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
        yield Server(base, env, env["DATABASE_URL"], proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def served_app(workers: int = 1) -> Iterator[Server]:
    """The migrated app with the floor routes, on a scratch database, until the block ends."""
    with scratch_env() as env, serving(env, workers) as server:
        yield server


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
    print(
        f"{'path':<16} {'req/s':>8} {'x floor':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99 x fl':>9}"
        f" {'app us/req':>11} {'db us/req':>10}"
    )
    for name, load in results.items():
        print(
            f"{name:<16} {load.rps:>8.0f} {load.rps / base.rps:>8.2f} {load.p50_ms:>8.2f} "
            f"{load.p99_ms:>8.2f} {load.p99_ms / base.p99_ms:>9.2f}"
            f" {load.server_cpu_us:>11.0f} {load.db_cpu_us:>10.0f}"
        )
    if any(load.server_cpu_us for load in results.values()):
        print("app/db us/req: CPU time per request of the server and of PostgreSQL")

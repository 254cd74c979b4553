"""What our request path costs, as ratios against the floor of our stack in the same run.

Starts the app (one uvicorn worker) on a scratch database (TEST_DATABASE_URL's or DATABASE_URL's
server, else an embedded one) with bench/floor_app.py's floor route mounted, signs in a real
admin through the token endpoint, loads each path with wrk (Debian package `wrk`) and prints
requests/s, p50 and p99 for:

  floor         one user row by id with raw asyncpg, no authentication (bench/floor_app.py)
  healthz       a minimal endpoint of the same app: our middleware only
  roles         + bearer token and revocation check, no query
  user_by_id    GET /api/v1/admin/users/{id}: the product's authenticated single-row read
  users_page    GET /api/v1/admin/users?limit=1: the same through keyset paging

Target (issue 6): user_by_id >= 0.60 of the floor's req/s, p99 <= 1.5x the floor's p99, at 20
connections and one worker.

The paths are measured in interleaved rounds (every path once per round) and each figure is the
median over the rounds, so a neighbour's burst of load does not land on one path only.

Usage: .venv/bin/python bench/request_overhead.py [--seconds 5] [--rounds 3] [--connections 20]
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.databases import postgres_server, scratch_database  # noqa: E402

SECRET = "bench-secret-" + "b" * 32
EMAIL = "bench-admin@example.com"
PASSWORD = "bench password 1234"  # noqa: S105 (a throwaway scratch database)
BIN = Path(sys.executable).parent


@dataclass(frozen=True, slots=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float


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


def _post_form(url: str, form: dict[str, str]) -> dict[str, str]:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(url, data=data, timeout=10) as r:  # noqa: S310 (loopback)
        body: dict[str, str] = json.load(r)
        return body


def _millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, seconds: int, connections: int, token: str | None = None) -> Load:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return Load(float(rps.group(1)), _millis(p50.group(1)), _millis(p99.group(1)))


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, check=True)
    return done.stdout


def _measure(
    base: str, user_id: str, token: str, seconds: int, rounds: int, connections: int
) -> dict[str, Load]:
    paths = {
        "floor": (f"/bench/floor/users/{user_id}", None),
        "healthz": ("/healthz", None),
        "roles": ("/api/v1/auth/roles", token),
        "user_by_id": (f"/api/v1/admin/users/{user_id}", token),
        "users_page": ("/api/v1/admin/users?limit=1", token),
    }
    for path, auth in paths.values():  # warm up: pools, caches, code paths
        _wrk(base + path, 2, connections, auth)
    runs: dict[str, list[Load]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, (path, auth) in paths.items():
            runs[name].append(_wrk(base + path, seconds, connections, auth))
    return {
        name: Load(
            statistics.median(r.rps for r in loads),
            statistics.median(r.p50_ms for r in loads),
            statistics.median(r.p99_ms for r in loads),
        )
        for name, loads in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="backoffice-bench-"))
    with postgres_server() as server, scratch_database(server, "bench") as url:
        env = os.environ | {
            "DATABASE_URL": url.set(drivername="postgresql").render_as_string(hide_password=False),
            "BACKOFFICE_JWT_SECRET": SECRET,
            "BACKOFFICE_DATA_DIR": str(data_dir),
            "BACKOFFICE_LOG_LEVEL": "WARNING",
        }
        _run([str(BIN / "backoffice"), "migrate"], env)
        created = _run(
            [str(BIN / "backoffice"), "create-user", "--email", EMAIL, "--role", "admin"],
            env,
            stdin=PASSWORD + "\n",
        )
        user_id = re.search(r"\(([0-9a-f-]{36})\)", created).group(1)  # type: ignore[union-attr]
        port = _free_port()
        server_cmd = [
            str(BIN / "uvicorn"), "bench.floor_app:create_bench_app", "--factory",
            "--port", str(port), "--workers", "1", "--no-access-log", "--no-proxy-headers",
            "--log-level", "warning",
        ]  # fmt: skip
        proc = subprocess.Popen(server_cmd, env=env, cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base}/readyz")
            form = {"grant_type": "password", "username": EMAIL, "password": PASSWORD}
            token = _post_form(f"{base}/api/v1/auth/token", form)["access_token"]
            results = _measure(base, user_id, token, args.seconds, args.rounds, args.connections)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            shutil.rmtree(data_dir, ignore_errors=True)
    _report(results, args.connections)


def _report(results: dict[str, Load], connections: int) -> None:
    floor = results["floor"]
    print(f"one uvicorn worker, {connections} connections, medians of interleaved rounds")
    print(f"{'path':<12} {'req/s':>8} {'x floor':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99 x fl':>9}")
    for name, load in results.items():
        print(
            f"{name:<12} {load.rps:>8.0f} {load.rps / floor.rps:>8.2f} {load.p50_ms:>8.2f} "
            f"{load.p99_ms:>8.2f} {load.p99_ms / floor.p99_ms:>9.2f}"
        )
    target = results["user_by_id"]
    met = target.rps >= 0.6 * floor.rps and target.p99_ms <= 1.5 * floor.p99_ms
    verdict = "met" if met else "NOT met"
    print(f"target (user_by_id >= 0.60 x floor req/s, p99 <= 1.5 x floor p99): {verdict}")


if __name__ == "__main__":
    main()

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

Usage: .venv/bin/python bench/request_overhead.py [--seconds 5] [--rounds 3] [--connections 20]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from harness import Target, measure, report, served_app, sign_in_admin

EMAIL = "bench-admin@example.com"
PASSWORD = "bench password 1234"  # noqa: S105 (a throwaway scratch database)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per path and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with served_app() as server:
        user_id, token = sign_in_admin(server, EMAIL, PASSWORD)
        base = server.base
        paths = {
            "floor": Target(f"{base}/bench/floor/users/{user_id}"),
            "healthz": Target(f"{base}/healthz"),
            "roles": Target(f"{base}/api/v1/auth/roles", token),
            "user_by_id": Target(f"{base}/api/v1/admin/users/{user_id}", token),
            "users_page": Target(f"{base}/api/v1/admin/users?limit=1", token),
        }
        results = measure(
            paths,
            seconds=args.seconds,
            rounds=args.rounds,
            connections=args.connections,
            server=server,
        )
    report(
        results,
        "floor",
        f"one uvicorn worker, {args.connections} connections, medians of interleaved rounds",
    )
    target = results["user_by_id"]
    floor = results["floor"]
    met = target.rps >= 0.6 * floor.rps and target.p99_ms <= 1.5 * floor.p99_ms
    verdict = "met" if met else "NOT met"
    print(f"target (user_by_id >= 0.60 x floor req/s, p99 <= 1.5 x floor p99): {verdict}")


if __name__ == "__main__":
    main()

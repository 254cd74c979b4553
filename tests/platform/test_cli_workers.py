"""`backoffice serve` with several workers: a kill -9 of serve leaves no worker serving."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import URL

from tests.databases import scratch_database
from tests.platform.test_cli import child_env, free_port, serving, stop, wait_for_health

GONE_WITHIN = 15.0


@pytest.mark.slow
def test_workers_stop_when_serve_is_killed_and_serve_starts_again_on_the_port(
    server_url: URL, tmp_path: Path
) -> None:
    with scratch_database(server_url, "workers") as url:
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = child_env(DATABASE_URL=database_url, BACKOFFICE_JWT_SECRET="w" * 40)
        port, log = free_port(), tmp_path / "serve.log"
        base = f"http://127.0.0.1:{port}"
        args = ["--port", str(port), "--workers", "2"]
        with serving(args, env, log) as proc:
            wait_for_health(proc, base, log)
            workers = [
                p for p in psutil.Process(proc.pid).children(recursive=True) if "python" in p.name()
            ]
            assert len(workers) >= 2, workers
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
            _, alive = psutil.wait_procs(workers, timeout=GONE_WITHIN)
            assert not alive, f"workers still running after serve was killed: {alive}"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/healthz", timeout=2)
        with serving(args, env, log) as again:
            wait_for_health(again, base, log)
            assert stop(again, log) == 0

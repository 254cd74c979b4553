"""The embedded PostgreSQL across crashes and shared use, driven through the installed command.

pgserver counts the processes that use one data directory and stops PostgreSQL when the last
one leaves. A `backoffice serve` killed with SIGKILL never leaves; these tests pin that such a
process no longer counts, while a live one still does.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import URL

from app.db.embedded import is_live_handle
from tests.databases import scratch_database
from tests.platform.test_cli import (
    BACKOFFICE,
    COMMAND_TIMEOUT,
    STOP_TIMEOUT,
    child_env,
    free_port,
    log_tail,
    postgres_processes,
    readiness,
    serving,
    stop,
    stop_postgres,
    wait_for_health,
    wait_until_gone,
)

PASSWORD = "a long enough password"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data directory outside pytest's tmp_path (why: test_cli.py's fixture)."""
    root = Path(tempfile.mkdtemp(prefix="backoffice-test-embedded-"))
    try:
        yield root / "data"
    finally:
        stop_postgres(root / "data")
        shutil.rmtree(root, ignore_errors=True)


def _run(
    data_dir: Path, *args: str, stdin: str = "", by_env: bool = False
) -> subprocess.CompletedProcess[str]:
    """`backoffice ARGS` on `data_dir`, named by --data-dir or (by_env) BACKOFFICE_DATA_DIR."""
    if by_env:
        command, env = [*args], child_env(BACKOFFICE_DATA_DIR=str(data_dir))
    else:
        command, env = [*args, "--data-dir", str(data_dir)], child_env()
    return subprocess.run(
        [str(BACKOFFICE), *command],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _serve_args(data_dir: Path, port: int) -> list[str]:
    # One worker: the embedded server belongs to the main process either way, and each extra
    # worker only adds start-up time to these tests.
    return ["--data-dir", str(data_dir), "--port", str(port), "--workers", "1"]


def crash(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL serve and whatever it spawned (its process group), as `kill -9 -PGID` or a killed
    container would. PostgreSQL runs in a session of its own (pg_ctl) and survives."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(STOP_TIMEOUT)


def _using_line(data_dir: Path) -> str:
    return f"Using the embedded PostgreSQL in {data_dir.resolve() / 'pgdata'} (database backoffice)"


def test_a_clean_stop_after_a_crash_stops_the_embedded_postgres(
    tmp_path: Path, data_dir: Path
) -> None:
    env = child_env()
    log = tmp_path / "serve.log"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with serving(_serve_args(data_dir, port), env, log) as crashed:
        wait_for_health(crashed, base_url, log)
        crash(crashed)
    assert postgres_processes(data_dir), "after SIGKILL of serve its PostgreSQL runs on, orphaned"

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with serving(_serve_args(data_dir, port), env, log) as proc:
        wait_for_health(proc, base_url, log)
        readiness(base_url, log)
        assert stop(proc, log) == 0, log_tail(log)
    assert wait_until_gone(data_dir) == [], (
        f"serve left the embedded PostgreSQL running after a crash:\n{log_tail(log)}"
    )


def test_a_command_joining_a_running_serve_leaves_its_database_running(
    tmp_path: Path, data_dir: Path
) -> None:
    env = child_env()
    log = tmp_path / "serve.log"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with serving(_serve_args(data_dir, port), env, log) as proc:
        wait_for_health(proc, base_url, log)
        created = _run(
            data_dir,
            "create-user",
            "--email",
            "you@example.com",
            "--role",
            "admin",
            stdin=PASSWORD + "\n",
        )
        assert created.returncode == 0, created.stderr
        assert _using_line(data_dir) in created.stderr.splitlines()

        readiness(base_url, log)
        token = httpx.post(
            f"{base_url}/api/v1/auth/token",
            data={"grant_type": "password", "username": "you@example.com", "password": PASSWORD},
            timeout=10,
        )
        assert token.status_code == 200, "serve does not see the user create-user created"
        assert stop(proc, log) == 0, log_tail(log)
    assert wait_until_gone(data_dir) == [], log_tail(log)


def test_serve_stops_the_database_when_the_other_user_crashed(
    tmp_path: Path, data_dir: Path
) -> None:
    env = child_env()
    log = tmp_path / "serve.log"
    port, other_port = free_port(), free_port()
    with serving(_serve_args(data_dir, port), env, log) as proc:
        wait_for_health(proc, f"http://127.0.0.1:{port}", log)
        other_args = _serve_args(data_dir, other_port)
        with serving(other_args, env, tmp_path / "other.log") as other:
            wait_for_health(other, f"http://127.0.0.1:{other_port}", tmp_path / "other.log")
            crash(other)
        readiness(f"http://127.0.0.1:{port}", log)
        assert stop(proc, log) == 0, log_tail(log)
    assert wait_until_gone(data_dir) == [], "a crashed second serve kept PostgreSQL running"


def test_a_command_after_a_crash_stops_the_orphaned_postgres(
    tmp_path: Path, data_dir: Path
) -> None:
    log = tmp_path / "serve.log"
    port = free_port()
    with serving(_serve_args(data_dir, port), child_env(), log) as crashed:
        wait_for_health(crashed, f"http://127.0.0.1:{port}", log)
        crash(crashed)
    assert postgres_processes(data_dir)

    purged = _run(data_dir, "purge", by_env=True)
    assert purged.returncode == 0, purged.stderr
    assert _using_line(data_dir) in purged.stderr.splitlines()
    assert wait_until_gone(data_dir) == []


@pytest.mark.parametrize("in_query", [False, True], ids=["in-userinfo", "in-query"])
def test_a_command_names_the_database_url_it_uses_without_the_password(
    server_url: URL, in_query: bool
) -> None:
    secret = "never-shown-" + uuid.uuid4().hex
    with scratch_database(server_url, "cli") as url:
        plain = url.set(drivername="postgresql", password=None)
        if in_query:
            shown = plain.update_query_dict({"password": secret})
        else:
            shown = plain.set(password=secret)
        result = subprocess.run(
            [str(BACKOFFICE), "migrate"],
            env=child_env(DATABASE_URL=shown.render_as_string(hide_password=False)),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    using = [line for line in result.stderr.splitlines() if line.startswith("Using ")]
    assert len(using) == 1, result.stderr
    assert using[0].startswith("Using the PostgreSQL at postgresql://"), using
    assert "***" in using[0]
    assert f"/{url.database}" in using[0]
    if url.host:
        assert url.host in using[0]


def test_a_pid_counts_only_while_the_process_that_registered_it_lives() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = psutil.Process(child.pid).create_time() - psutil.boot_time()
        assert is_live_handle(child.pid, started)
        assert is_live_handle(child.pid, None), "without a record, a running process counts"
        assert not is_live_handle(child.pid, started - 5.0), "the pid went to another process"
        child.kill()
        deadline = time.monotonic() + 5
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not is_live_handle(child.pid, started), "a zombie is dead"
    finally:
        child.kill()
        child.wait(5)
    assert not is_live_handle(child.pid, started)
    assert is_live_handle(os.getpid(), None)

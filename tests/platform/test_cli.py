"""The `backoffice` command end to end: the installed console script, run in subprocesses.

Every child gets a deadline and is stopped (and its embedded PostgreSQL with it) afterwards,
whether the test passed or not.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from app.db.migrations import head_revisions
from tests.databases import postgres_server, scratch_database

BACKOFFICE = Path(sys.executable).parent / "backoffice"
COMMAND_TIMEOUT = 60.0
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
_OUR_VARIABLES = ("DATABASE_URL", "TEST_DATABASE_URL")


def child_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without any database or backoffice setting, plus `overrides`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _OUR_VARIABLES and not k.startswith("BACKOFFICE_")
    }
    return env | overrides


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Running postgres servers whose command line names a directory inside `data_dir`."""
    marker = str(data_dir.resolve())
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        info = proc.info
        if info["status"] == psutil.STATUS_ZOMBIE or "postgres" not in (info["name"] or ""):
            continue
        if any(marker in arg for arg in info["cmdline"] or ()):
            found.append(proc)
    return found


def stop_postgres(data_dir: Path) -> None:
    """Last-resort cleanup: fast-shut-down any server a failed test left behind."""
    for proc in postgres_processes(data_dir):
        try:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        except psutil.NoSuchProcess:
            continue
        except psutil.TimeoutExpired:
            proc.kill()


def wait_until_gone(data_dir: Path, timeout: float = 5.0) -> list[psutil.Process]:
    """The postmaster exits a moment after `pg_ctl stop` returns: allow it that moment."""
    deadline = time.monotonic() + timeout
    while (left := postgres_processes(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serving(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`backoffice serve ARGS` in its own session; killed (with its group) if still running."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(BACKOFFICE), "serve", *args],
            env=env,
            cwd=log.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def wait_for_health(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> float:
    """Poll /healthz until 200; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_TIMEOUT:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode} while starting:\n{log_tail(log)}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer within {STARTUP_TIMEOUT:.0f} s:\n{log_tail(log)}")


def stop(proc: subprocess.Popen[bytes], log: Path) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM:\n{log_tail(log)}")


def readiness(base_url: str, log: Path) -> str:
    response = httpx.get(f"{base_url}/readyz", timeout=10)
    assert response.status_code == 200, f"{response.text}\n{log_tail(log)}"
    revision: str = response.json()["schema_revision"]
    assert revision == ",".join(sorted(head_revisions()))
    return revision


def _embedded_socket(data_dir: Path) -> tuple[str, int]:
    """Socket directory and port of the running embedded server, from its postmaster.pid."""
    lines = (data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    return lines[4], int(lines[3])


async def _embedded_fetch(data_dir: Path, sql: str, *args: object) -> object:
    """Run one statement on the embedded server's `backoffice` database, over its socket."""
    host, port = _embedded_socket(data_dir)
    conn = await asyncpg.connect(host=host, port=port, user="postgres", database="backoffice")
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data directory, deliberately outside pytest's tmp_path.

    Run as root, pgserver runs PostgreSQL as another user and opens the directory's parents for
    it; every new pytest session closes /tmp/pytest-of-<user> again (chmod 700), which would pull
    the data directory out from under the server if another session starts meanwhile.
    """
    root = Path(tempfile.mkdtemp(prefix="backoffice-test-cli-"))
    try:
        yield root / "data"
    finally:
        stop_postgres(root / "data")
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    ("command", "env", "names"),
    [
        pytest.param(
            "migrate",
            {"BACKOFFICE_DB_POOL_SIZE": "abc", "DATABASE_URL": "mysql://x"},
            ["BACKOFFICE_DB_POOL_SIZE:", "DATABASE_URL: must be a postgresql:// URL"],
            id="migrate-two-bad-values",
        ),
        pytest.param(
            "serve",
            {"BACKOFFICE_ENVIRONMENT": "production"},
            ["production needs DATABASE_URL"],
            id="serve-production-without-database",
        ),
        pytest.param(
            "serve",
            {"BACKOFFICE_ENVIRONMENT": "production", "DATABASE_URL": "postgresql://db/x"},
            ["BACKOFFICE_JWT_SECRET"],
            id="serve-production-without-secret",
        ),
    ],
)
def test_a_bad_setting_stops_the_command_with_one_clear_line(
    tmp_path: Path, data_dir: Path, command: str, env: dict[str, str], names: list[str]
) -> None:
    result = subprocess.run(
        [str(BACKOFFICE), command, "--data-dir", str(data_dir)],
        env=child_env(**env),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backoffice: invalid setting: ")
    for name in names:
        assert name in lines[0]
    assert "BACKOFFICE_DATABASE_URL" not in lines[0]
    assert not data_dir.exists(), "nothing may be started or written before settings are valid"


def test_serve_runs_on_the_embedded_database_and_stops_it_on_sigterm(
    tmp_path: Path, data_dir: Path
) -> None:
    env = child_env()
    log = tmp_path / "serve.log"
    marker = uuid.uuid4().hex

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with serving(["--data-dir", str(data_dir), "--port", str(port)], env, log) as proc:
        wait_for_health(proc, base_url, log)
        revision = readiness(base_url, log)
        docs = httpx.get(f"{base_url}/docs", timeout=10)
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
        assert (data_dir / "pgdata" / "PG_VERSION").is_file()
        asyncio.run(_embedded_fetch(data_dir, "CREATE TABLE test_cli_marker (value text)"))
        asyncio.run(_embedded_fetch(data_dir, "INSERT INTO test_cli_marker VALUES ($1)", marker))
        assert stop(proc, log) == 0, log_tail(log)
    assert wait_until_gone(data_dir) == [], "the embedded PostgreSQL outlived `backoffice serve`"

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with serving(["--data-dir", str(data_dir), "--port", str(port)], env, log) as proc:
        wait_for_health(proc, base_url, log)
        assert readiness(base_url, log) == revision
        stored = asyncio.run(_embedded_fetch(data_dir, "SELECT value FROM test_cli_marker"))
        assert stored == marker, "data written before the restart is gone"
        assert stop(proc, log) == 0, log_tail(log)
    assert wait_until_gone(data_dir) == []


def test_serve_uses_database_url_and_never_starts_its_own(tmp_path: Path, data_dir: Path) -> None:
    log = tmp_path / "serve.log"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with postgres_server() as server, scratch_database(server, "cli") as url:
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        env = child_env(DATABASE_URL=database_url)
        with serving(["--data-dir", str(data_dir), "--port", str(port)], env, log) as proc:
            wait_for_health(proc, base_url, log)
            readiness(base_url, log)
            assert postgres_processes(data_dir) == []
            returncode = stop(proc, log)
        # uvicorn re-raises the SIGTERM it shut down on; without an embedded server to stop,
        # dying of it (-15) is as clean as exiting 0.
        assert returncode in (0, -signal.SIGTERM), log_tail(log)
    assert not (data_dir / "pgdata").exists()
    assert "embedded PostgreSQL" not in log.read_text()

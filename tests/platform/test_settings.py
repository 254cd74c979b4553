from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings, describe_settings_error, to_async_url
from app.db.engine import Database
from app.main import signing_key_for
from app.security.keys import DEV_KEY_FILE, InvalidSigningKey


def test_libpq_urls_get_our_driver_and_socket_dirs_survive() -> None:
    url = to_async_url("postgresql://app@/backoffice?host=/run/postgresql&sslmode=require")
    assert url.drivername == "postgresql+asyncpg"
    assert url.query["host"] == "/run/postgresql"
    assert url.query["ssl"] == "require"
    assert "sslmode" not in url.query


def test_a_bad_setting_names_the_variable_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKOFFICE_DB_POOL_SIZE", "lots")
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = describe_settings_error(caught.value)
    assert "BACKOFFICE_DB_POOL_SIZE" in line
    assert "DATABASE_URL" in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"BACKOFFICE_JWT_SECRET": "s" * 32}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://db/app"}, "BACKOFFICE_JWT_SECRET"),
    ],
)
def test_production_refuses_to_start_without_its_external_services(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], missing: str
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BACKOFFICE_JWT_SECRET", raising=False)
    monkeypatch.setenv("BACKOFFICE_ENVIRONMENT", "production")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=missing):
        Settings()


def test_short_jwt_secrets_are_refused() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(jwt_secret="too-short")  # type: ignore[arg-type]


def test_without_a_configured_key_a_dev_key_is_made_once_and_kept_private(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=None, jwt_private_key=None)
    first = signing_key_for(settings)
    second = signing_key_for(settings)
    key_file = tmp_path / DEV_KEY_FILE
    assert first == second
    assert first.algorithm == "HS256"
    assert len(bytes.fromhex(first.signing_key)) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_kept_dev_key_that_is_too_short_is_refused(tmp_path: Path) -> None:
    (tmp_path / DEV_KEY_FILE).write_text("")
    settings = Settings(data_dir=tmp_path, jwt_secret=None, jwt_private_key=None)
    with pytest.raises(InvalidSigningKey):
        signing_key_for(settings)


def test_sql_parameters_never_reach_error_messages(settings: Settings) -> None:
    """Bound values are personal data; SQLAlchemy would print them in errors, hence logs."""
    database = Database.from_settings(settings)
    assert database.engine.sync_engine.hide_parameters is True

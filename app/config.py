"""Typed settings, read from the environment (prefix BACKOFFICE_, plus DATABASE_URL)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

ASYNC_DRIVER = "postgresql+asyncpg"
_POSTGRES_SCHEMES = {"postgres", "postgresql"}


class Environment(StrEnum):
    development = "development"
    production = "production"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("backoffice", appauthor=False))


def to_async_url(raw: str) -> URL:
    """Accept a plain libpq URL (also with ?host=/socket/dir) and pick our own driver.

    libpq's ``sslmode`` is spelled ``ssl`` for asyncpg; everything else passes through.
    """
    url = make_url(raw)
    backend = url.drivername.split("+", 1)[0]
    if backend not in _POSTGRES_SCHEMES:
        raise ValueError(f"must be a postgresql:// URL, got scheme {url.drivername!r}")
    query = dict(url.query)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return url.set(drivername=ASYNC_DRIVER, query=query)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BACKOFFICE_",
        extra="ignore",
        frozen=True,
        validate_default=True,
        validate_by_name=True,
    )

    environment: Environment = Environment.development
    database_url: Annotated[
        str | None,
        Field(validation_alias=AliasChoices("DATABASE_URL", "BACKOFFICE_DATABASE_URL")),
    ] = None
    data_dir: Path = Field(default_factory=default_data_dir)

    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 20
    db_max_overflow: Annotated[int, Field(ge=0, le=200)] = 10
    db_pool_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0
    db_connect_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0
    db_statement_timeout_ms: Annotated[int, Field(ge=0)] = 30_000
    retry_after_seconds: Annotated[int, Field(ge=1, le=3600)] = 5

    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    idempotency_ttl_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    log_level: str = "INFO"

    jwt_secret: SecretStr | None = None
    jwt_private_key: SecretStr | None = Field(
        default=None, description="PEM RSA private key; switches tokens to RS256"
    )
    jwt_issuer: str = "backoffice"
    jwt_audience: str = "backoffice-api"
    access_token_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=90)] = 14

    login_max_failures: Annotated[int, Field(ge=1)] = 5
    login_window_seconds: Annotated[int, Field(ge=1)] = 900

    # The job worker: jobs run at once per worker process. `in_process_worker` runs one inside
    # each server process (what `backoffice serve --with-worker` sets).
    worker_concurrency: Annotated[int, Field(ge=1, le=100)] = 4
    in_process_worker: bool = False
    # A worker reports it is alive this often; one silent for three times as long is taken
    # for dead, and the jobs it was running are run again.
    worker_heartbeat_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0

    # Webhook target hosts exempt from the public-address check (comma-separated host names or
    # addresses): a receiver inside the network. Empty: every target must be public.
    webhook_allowed_hosts: str = ""
    # Delivery: one attempt may take this long in all; a failed one is retried with doubling
    # pauses (from the first to the longest, each jittered) until `webhook_retry_seconds` after
    # the event; then it is failed. This many failed deliveries in a row pause the
    # subscription (0: never). Finished deliveries are kept in the log this many days.
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    webhook_retry_seconds: Annotated[int, Field(ge=1, le=7 * 86400)] = 86400
    webhook_first_backoff_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    webhook_max_backoff_seconds: Annotated[float, Field(gt=0, le=86400)] = 3600.0
    webhook_pause_after_failures: Annotated[int, Field(ge=0)] = 5
    webhook_log_days: Annotated[int, Field(ge=1, le=3650)] = 30

    # Proxies whose X-Forwarded-For/-Proto are believed (addresses or networks, comma-separated,
    # or "*"). Empty: the peer address is the client, whatever a header claims.
    forwarded_allow_ips: str = ""

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value:
            to_async_url(value)
        return value or None

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("jwt_secret")
    @classmethod
    def _check_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes (use e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_forwarded_allow_ips(cls, value: str) -> str:
        entries = [e.strip() for e in value.split(",") if e.strip()]
        for entry in entries:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is not an IP address or network") from exc
        return ",".join(entries)

    @property
    def webhook_https_only(self) -> bool:
        return self.environment is Environment.production

    @property
    def webhook_hosts_allowed(self) -> frozenset[str]:
        hosts = (h.strip().lower() for h in self.webhook_allowed_hosts.split(","))
        return frozenset(h for h in hosts if h)

    @property
    def trusted_proxies(self) -> list[str]:
        return self.forwarded_allow_ips.split(",") if self.forwarded_allow_ips else []

    @model_validator(mode="after")
    def _production_needs_external_services(self) -> Settings:
        if self.environment is Environment.production:
            if not self.database_url:
                raise ValueError("production needs DATABASE_URL (no embedded database)")
            if self.jwt_secret is None and self.jwt_private_key is None:
                raise ValueError(
                    "production needs BACKOFFICE_JWT_SECRET (>= 32 random bytes) "
                    "or BACKOFFICE_JWT_PRIVATE_KEY"
                )
        return self

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def async_database_url(self) -> URL:
        if self.database_url is None:
            raise RuntimeError("no DATABASE_URL: start the embedded database first")
        return to_async_url(self.database_url)

    @property
    def worker_presumed_dead_seconds(self) -> float:
        return 3 * self.worker_heartbeat_seconds

    @property
    def libpq_database_url(self) -> str:
        """The database URL for libpq-based drivers (the job queue's psycopg)."""
        if self.database_url is None:
            raise RuntimeError("no DATABASE_URL: start the embedded database first")
        url = make_url(self.database_url)
        return url.set(drivername="postgresql").render_as_string(hide_password=False)


def describe_settings_error(error: Exception) -> str:
    """One line per wrong setting, naming the environment variable a user has to fix."""
    if not isinstance(error, ValidationError):
        return str(error)
    parts = []
    for item in error.errors():
        loc = "_".join(str(p) for p in item["loc"])
        # pydantic reports an alias by the name it was read from (DATABASE_URL), a field by its own.
        name = "DATABASE_URL" if loc.lower() == "database_url" else f"BACKOFFICE_{loc.upper()}"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if loc else message)
    return "; ".join(parts)

"""The `backoffice` command: serve, worker, migrate, create-user, demo-data, purge, openapi."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, TypeVar
from urllib.parse import unquote

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Environment, Settings, describe_settings_error
from app.db.embedded import DATABASE_NAME, EmbeddedPostgres, pgdata_dir
from app.db.engine import Database
from app.db.migrations import head_revisions, upgrade_to_head
from app.db.session import unit_of_work
from app.devdata.accounting import load_demo_accounting
from app.devdata.identity import DemoResult, load_demo_data
from app.devdata.inventory import load_demo_inventory
from app.devdata.partners import load_demo_partners
from app.devdata.readme import README_PATH, render_readme
from app.domain.actor import CLI_ACTOR
from app.domain.errors import DomainError, Unavailable
from app.domain.identity.users import NewUser, create_user
from app.domain.readiness import schema_revision
from app.http.openapi import CONTRACT_PATH, render_contract
from app.jobs.tasks import purge_as_configured
from app.jobs.worker import run_worker
from app.logging_setup import configure_logging
from app.main import create_app, signing_key_for
from app.schemas.identity import Email
from app.security.keys import InvalidSigningKey
from app.supervision import supervise_workers

cli = typer.Typer(help="backoffice: an API-first back office.", no_args_is_help=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the embedded database and dev keys live (env BACKOFFICE_DATA_DIR).",
        file_okay=False,
    ),
]


def load_settings(data_dir: Path | None = None) -> Settings:
    """Settings from the environment; a bad one stops the command with one clear line."""
    if data_dir is not None:
        os.environ["BACKOFFICE_DATA_DIR"] = str(data_dir.resolve())
    try:
        return Settings()
    except ValidationError as exc:
        typer.echo(f"backoffice: invalid setting: {describe_settings_error(exc)}", err=True)
        raise typer.Exit(code=2) from exc


def _ensure_signing_key(settings: Settings) -> None:
    """Create a dev key here, once, before any worker starts; a bad key stops with one line."""
    try:
        signing_key_for(settings)
    except InvalidSigningKey as exc:
        typer.echo(f"backoffice: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the command as a clean exit, so `finally` blocks stop the embedded server.

    uvicorn shuts down gracefully on SIGTERM and then re-raises it; under the default handler
    that killed the process (status 143) and left the embedded PostgreSQL running.
    """
    raise SystemExit(0)


def describe_database_url(raw: str) -> str:
    """The URL with its password hidden, to say which database a command uses."""
    url = make_url(raw)
    if "password" in url.query:  # libpq also takes it there; shown where it usually is
        url = url.difference_update_query(["password"]).set(password="hidden")  # noqa: S106
    # Unquoted for reading: `?host=/run/postgresql`, as the user wrote it, not `%2Frun%2F...`.
    return unquote(url.render_as_string(hide_password=True))


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a database URL: DATABASE_URL, or the embedded server while inside.

    Says on stderr which database it is. The URL is also exported, so uvicorn workers and
    alembic see the same database.
    """
    if settings.database_url is not None:
        typer.echo(
            f"Using the PostgreSQL at {describe_database_url(settings.database_url)}", err=True
        )
        yield settings
        return
    where = pgdata_dir(settings.data_dir)
    typer.echo(f"Using the embedded PostgreSQL in {where} (database {DATABASE_NAME})", err=True)
    embedded = EmbeddedPostgres(settings.data_dir)
    os.environ["DATABASE_URL"] = embedded.url
    try:
        yield settings.model_copy(update={"database_url": embedded.url})
    finally:
        os.environ.pop("DATABASE_URL", None)
        embedded.stop()


def _migrate(url: URL) -> None:
    upgrade_to_head(url)


T = TypeVar("T")


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one unit of work, like a request; a domain error ends the command."""

    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            async with unit_of_work(db) as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        typer.echo(f"backoffice: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc


def _read_password() -> str:
    """From a hidden prompt on a terminal, else the first line of stdin; never an argument."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


def default_workers() -> int:
    """One process per CPU this process may use: the event loop keeps one core busy. At most 4,
    since each holds its own connection pools (see the README's pool settings)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    data_dir: DataDirOption = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: one per CPU, at most 4).", min=1),
    ] = None,
    with_worker: Annotated[
        bool | None,
        typer.Option(
            "--with-worker/--without-worker",
            help="Also run the job worker in each server process "
            "(default: on in development, off in production, where `backoffice worker` runs).",
        ),
    ] = None,
) -> None:
    """Migrate the database, then serve the API (docs at /docs)."""
    settings = load_settings(data_dir)
    _ensure_signing_key(settings)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if with_worker is None:
        with_worker = settings.environment is Environment.development
    # The server processes read their settings from the environment.
    os.environ["BACKOFFICE_IN_PROCESS_WORKER"] = "true" if with_worker else "false"
    workers = workers or default_workers()
    if workers > 1:
        supervise_workers()
    with database(settings) as ready:
        _migrate(ready.async_database_url)
        typer.echo(f"Serving on http://{host}:{port} (docs: http://{host}:{port}/docs)", err=True)
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # Forwarded headers are honoured by the app itself, from BACKOFFICE_FORWARDED_ALLOW_IPS
            # only; uvicorn's own default would believe them from any local peer.
            proxy_headers=False,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )


@cli.command()
def worker(
    data_dir: DataDirOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Jobs run at once (env BACKOFFICE_WORKER_CONCURRENCY).", min=1),
    ] = None,
) -> None:
    """Run the job worker until SIGTERM/Ctrl-C: expires reservations, purges expired records.

    Run one or more beside the API in production; the schema must be migrated (serve or
    `backoffice migrate` does that)."""
    settings = load_settings(data_dir)
    configure_logging(settings.log_level)
    with database(settings) as ready:
        asyncio.run(_work(ready, concurrency or ready.worker_concurrency))


async def _work(settings: Settings, concurrency: int) -> None:
    db = Database.from_settings(settings)
    try:
        await schema_revision(db, head_revisions())
        typer.echo(f"Worker running {concurrency} job(s) at once; Ctrl-C stops it.", err=True)
        await run_worker(settings, db, concurrency=concurrency)
    except Unavailable as exc:
        typer.echo(f"backoffice: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        await db.dispose()


@cli.command()
def migrate(data_dir: DataDirOption = None) -> None:
    """Upgrade the database schema to the newest migration."""
    settings = load_settings(data_dir)
    with database(settings) as ready:
        _migrate(ready.async_database_url)
    typer.echo("The database schema is up to date.", err=True)


@cli.command()
def openapi(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write the contract to.")
    ] = CONTRACT_PATH,
) -> None:
    """Write the OpenAPI contract (openapi/openapi.json)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_contract(create_app(contract_settings())))
    typer.echo(f"Wrote {output}", err=True)


@cli.command("create-user")
def create_user_command(
    email: Annotated[str, typer.Option(help="The e-mail address to sign in with.")],
    role: Annotated[
        list[str], typer.Option("--role", help="A role to grant (repeatable), e.g. admin.")
    ],
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user, e.g. the first admin. The password is read from a prompt or stdin."""
    try:
        address = TypeAdapter(Email).validate_python(email)
    except ValidationError as exc:
        typer.echo(f"backoffice: {email!r} is not a valid e-mail address", err=True)
        raise typer.Exit(code=2) from exc
    password = _read_password()
    new = NewUser(email=address, display_name=name or address, password=password, roles=role)
    settings = load_settings(data_dir)
    with database(settings) as ready:
        _migrate(ready.async_database_url)
        user = _in_transaction(ready, lambda session: create_user(session, CLI_ACTOR, new))
    typer.echo(f"Created user {user.email} ({user.id}) with roles {', '.join(user.roles)}.")


@cli.command("demo-data")
def demo_data(data_dir: DataDirOption = None) -> None:
    """Load the demo data set (one user per role, demo clients, a few customers and a
    supplier, a small catalogue stocked in two warehouses, a company on SKR03 with last year's
    books). Running it again changes nothing. Refused in production."""
    settings = load_settings(data_dir)
    if settings.environment is Environment.production:
        typer.echo("backoffice: demo data has known passwords; refused in production", err=True)
        raise typer.Exit(code=2)

    async def load(session: AsyncSession) -> tuple[DemoResult, list[str], list[str], int]:
        people = await load_demo_data(session)
        partners = await load_demo_partners(session)
        stock = await load_demo_inventory(session)
        return people, partners, stock, await load_demo_accounting(session)

    with database(settings) as ready:
        _migrate(ready.async_database_url)
        result, partners, stock, entries = _in_transaction(ready, load)
    if not (result.created_users or result.created_clients or partners or stock or entries):
        typer.echo("The demo data is already there; nothing changed.")
    for email in result.created_users:
        typer.echo(f"user    {email}")
    for client_name, (client_id, secret) in result.created_clients.items():
        typer.echo(f"client  {client_name}: client_id={client_id} client_secret={secret}")
    for name in partners:
        typer.echo(f"partner {name}")
    if stock:
        typer.echo(f"stock   {', '.join(stock)}")
    if entries:
        typer.echo(f"books   a company on SKR03 with {entries} journal entries posted last year")


@cli.command()
def purge(data_dir: DataDirOption = None) -> None:
    """Delete expired idempotency keys, old login-failure counters, expired refresh tokens
    and webhook deliveries older than the delivery log keeps.

    The job worker does this every hour by itself; this command is for doing it now."""
    settings = load_settings(data_dir)
    with database(settings) as ready:
        purged = _in_transaction(ready, lambda session: purge_as_configured(session, settings))
    typer.echo(
        f"Purged {purged.idempotency_keys} idempotency keys, {purged.login_throttles} login "
        f"counters, {purged.refresh_tokens} refresh tokens, {purged.webhook_deliveries} "
        "webhook deliveries."
    )


@cli.command()
def readme() -> None:
    """Regenerate README.md's generated sections (role matrix, demo users and partners)."""
    README_PATH.write_text(render_readme(README_PATH.read_text()))
    typer.echo(f"Wrote {README_PATH}", err=True)


def contract_settings() -> Settings:
    """Settings for rendering the contract: nothing is connected to, no key file is written."""
    return Settings(
        database_url="postgresql://contract@localhost/unused",
        jwt_secret="contract-rendering-only-never-used-to-sign",  # noqa: S106
    )


def main() -> None:
    cli()

"""The `backoffice` command: serve, migrate, create-user, demo-data, openapi."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import URL

from app.config import Settings, describe_settings_error
from app.db.embedded import EmbeddedPostgres
from app.db.migrations import upgrade_to_head
from app.main import create_app
from app.openapi import CONTRACT_PATH, render_contract

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


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a database URL: DATABASE_URL, or the embedded server while inside.

    The URL is also exported, so uvicorn workers and alembic see the same database.
    """
    if not settings.uses_embedded_database:
        yield settings
        return
    typer.echo(f"Starting the embedded PostgreSQL in {settings.data_dir}", err=True)
    embedded = EmbeddedPostgres(settings.data_dir)
    os.environ["DATABASE_URL"] = embedded.url
    try:
        yield settings.model_copy(update={"database_url": embedded.url})
    finally:
        os.environ.pop("DATABASE_URL", None)
        embedded.stop()


def _migrate(url: URL) -> None:
    upgrade_to_head(url)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    data_dir: DataDirOption = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Migrate the database, then serve the API (docs at /docs)."""
    settings = load_settings(data_dir)
    with database(settings) as ready:
        _migrate(ready.async_database_url)
        typer.echo(f"Serving on http://{host}:{port} (docs: http://{host}:{port}/docs)", err=True)
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )


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


def contract_settings() -> Settings:
    """Settings for rendering the contract: nothing is connected to, no key file is written."""
    return Settings(
        database_url="postgresql://contract@localhost/unused",
        jwt_secret="contract-rendering-only-never-used-to-sign",  # noqa: S106
    )


def main() -> None:
    cli()

"""`etlx db upgrade` and `etlx db current`: our own database's migrations."""

from __future__ import annotations

from typing import Annotated

import typer

db_app = typer.Typer(help="Migrate and inspect the ETL-Express database.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL; default: ETLX_DATABASE_URL.", show_default=False),
]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


@db_app.command("upgrade")
def upgrade_command(url: UrlOption = None) -> None:
    """Migrate the database to the newest revision (safe to run again)."""
    from etl_express.errors import ConfigError
    from etl_express.stores import db

    try:
        db.upgrade(url)
        revision = db.current_revision(url)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"database at revision {revision}")


@db_app.command("current")
def current_command(url: UrlOption = None) -> None:
    """Print the database's revision and whether it is the newest."""
    from etl_express.errors import ConfigError
    from etl_express.stores import db

    try:
        revision = db.current_revision(url)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    head = db.head_revision()
    if revision is None:
        typer.echo(f"not migrated (newest is {head}); run `etlx db upgrade`")
        raise typer.Exit(1)
    status = "up to date" if revision == head else f"behind, newest is {head}"
    typer.echo(f"{revision} ({status})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")

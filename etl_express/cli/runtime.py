"""`etlx up`, `etlx down`, `etlx status`: the service's life cycle (see etl_express.runtime)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def up() -> None:
        """Start ETL-Express (PostgreSQL, Airflow components, demo) in the background."""
        from etl_express.runtime.up import run_up

        raise typer.Exit(run_up())

    @app.command()
    def down() -> None:
        """Stop everything `etlx up` started."""
        from etl_express.runtime.down import run_down

        raise typer.Exit(run_down())

    @app.command("write-config")
    def write_config(
        directory: Annotated[Path, typer.Argument(help="Where Airflow reads webserver_config.py.")],
    ) -> None:
        """Write the FAB auth configuration (for container deployments)."""
        from etl_express.runtime.airflow_env import write_webserver_config

        typer.echo(write_webserver_config(directory))

    demo = typer.Typer(help="The demo source database.", no_args_is_help=True)
    app.add_typer(demo, name="demo")

    @demo.command("load")
    def demo_load(
        url: Annotated[
            str | None,
            typer.Option(envvar="ETLX_DEMO_DATABASE_URL", help="Demo database (PostgreSQL URL)."),
        ] = None,
    ) -> None:
        """Create and fill the demo tables (customers, patients) unless already loaded."""
        from etl_express.runtime.demo import load_demo

        if not url:
            typer.echo("error: set ETLX_DEMO_DATABASE_URL or pass --url", err=True)
            raise typer.Exit(2)
        typer.echo("loaded" if load_demo(url) else "already loaded")

    @app.command()
    def status() -> None:
        """Show which components are running."""
        from etl_express.runtime.down import run_status

        raise typer.Exit(run_status())

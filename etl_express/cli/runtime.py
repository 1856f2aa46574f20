"""`etlx up`, `etlx down`, `etlx status`: the service's life cycle (see etl_express.runtime)."""

from __future__ import annotations

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

    @app.command()
    def status() -> None:
        """Show which components are running."""
        from etl_express.runtime.down import run_status

        raise typer.Exit(run_status())

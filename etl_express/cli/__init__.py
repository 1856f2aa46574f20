"""The `etlx` command. Each command group lives in its own module and is registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="etlx",
    help="ETL-Express: run the service, manage scripts and tasks, work with personal data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported here so `etlx --help` stays fast and a group's heavy imports stay inside it.
    from etl_express.cli import runtime as runtime_cli

    runtime_cli.register(app)

    from etl_express.cli import config as config_cli

    config_cli.register(app)

    from etl_express.cli import db as db_cli

    db_cli.register(app)

    from etl_express.cli import pii as pii_cli

    pii_cli.register(app)

    from etl_express.cli import anonymize as anonymize_cli

    anonymize_cli.register(app)


def main() -> None:
    _register()
    app()

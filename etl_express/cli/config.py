"""`etlx apply`, `etlx export`, `etlx validate`: scripts and tasks as YAML (config as code)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etl_express.errors import EtlxError, ValidationFailed

if TYPE_CHECKING:
    import sqlalchemy as sa

    from etl_express.configio.context import CliContext

Files = Annotated[
    list[Path], typer.Option("--file", "-f", help="YAML file or directory (repeatable).")
]


def _fail(exc: EtlxError) -> typer.Exit:
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            typer.echo(f"error: {error.path}: {error.message}", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _engine_and_context() -> tuple[sa.Engine, CliContext]:
    from etl_express.configio.context import CliContext
    from etl_express.settings import get_settings
    from etl_express.stores.db import make_engine

    settings = get_settings()
    return make_engine(), CliContext(settings.home)


def register(app: typer.Typer) -> None:
    @app.command()
    def apply(
        files: Files,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
        actor: Annotated[str | None, typer.Option("--as", help="Actor for the audit log.")] = None,
    ) -> None:
        """Create or update scripts and tasks from YAML; unchanged ones are left alone."""
        from etl_express.configio import apply as applier
        from etl_express.configio.documents import load_documents

        try:
            documents = load_documents(files)
            engine, ctx = _engine_and_context()
            if dry_run:
                steps = applier.plan(engine, documents, ctx)
            else:
                who = actor or f"cli:{getpass.getuser()}"
                steps = applier.apply(engine, documents, who, ctx)
        except EtlxError as exc:
            raise _fail(exc) from exc
        for step in steps:
            typer.echo(step.line())
        changed = sum(step.action != "unchanged" for step in steps)
        verb = "would change" if dry_run else "changed"
        typer.echo(f"{len(steps)} document(s), {changed} {verb}")

    @app.command()
    def export(
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
        ] = None,
    ) -> None:
        """Write every script (latest version) and task as YAML that `etlx apply` accepts."""
        from etl_express.configio.apply import export as exporter
        from etl_express.configio.documents import dump_documents

        try:
            engine, _ = _engine_and_context()
            text = dump_documents(exporter(engine))
        except EtlxError as exc:
            raise _fail(exc) from exc
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")

    @app.command()
    def validate(files: Files) -> None:
        """Validate YAML documents exactly as saving would, writing nothing."""
        from etl_express.configio import apply as applier
        from etl_express.configio.documents import load_documents

        try:
            documents = load_documents(files)
            engine, ctx = _engine_and_context()
            steps = applier.plan(engine, documents, ctx)
        except EtlxError as exc:
            raise _fail(exc) from exc
        typer.echo(f"{len(steps)} document(s) valid")

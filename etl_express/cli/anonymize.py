"""`etlx anonymize`: apply an anonymization rules file to a CSV or Parquet file, no Airflow.

The key comes from ETLX_PSEUDONYM_KEY or --key-file (never from the rules). The privacy gate
runs on the result: a batch that fails it is not written (exit 3) unless --allow-blocked;
the report (--report) says why without showing any value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from etl_express.errors import EtlxError, FieldError, ValidationFailed

if TYPE_CHECKING:
    import polars as pl

    from etl_express.anonymize.rules import AnonymizationRules

EXIT_INVALID = 2
EXIT_BLOCKED = 3


def read_frame(path: Path, rules: AnonymizationRules) -> pl.DataFrame:
    """CSV cells are read as text (identifiers keep leading zeros); columns whose rule needs
    numbers (generalize age/number) are cast, with an error naming the column."""
    import polars as pl

    from etl_express.anonymize.rules import GeneralizeAge, GeneralizeNumber

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix not in (".csv", ".txt"):
        raise ValidationFailed([FieldError("--input", "use a .csv or .parquet file")])
    frame = pl.read_csv(path, infer_schema=False)
    for name, rule in rules.columns.items():
        if isinstance(rule, GeneralizeAge | GeneralizeNumber) and name in frame.columns:
            try:
                frame = frame.with_columns(pl.col(name).str.strip_chars().cast(pl.Float64))
            except pl.exceptions.InvalidOperationError:
                raise ValidationFailed(
                    [FieldError(f"$.columns.{name}", f"column {name!r} has non-numeric values")]
                ) from None
    return frame


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)


def load_keys(key_file: Path | None) -> Any:
    from etl_express.anonymize.keys import keyring_from_env, keyring_from_file

    return keyring_from_file(key_file) if key_file else keyring_from_env()


def run(
    rules_path: Path, input_path: Path, output: Path, report: Path | None, options: dict[str, Any]
) -> int:
    from etl_express.anonymize.engine import anonymize_frame
    from etl_express.anonymize.gate import check_batch
    from etl_express.anonymize.report import privacy_report
    from etl_express.anonymize.rules import load_rules_file

    rules = load_rules_file(rules_path)
    keys = load_keys(options["key_file"])
    frame = read_frame(input_path, rules)
    result = anonymize_frame(frame, rules, keys)
    gate = None
    if options["gate"]:
        gate = check_batch(result.frame, result.leak_index, keys, text_rules=rules.text_columns)
    summary = privacy_report(result.frame, result.stats, rules.quasi_identifiers, gate)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if gate is not None and gate.blocked:
        for reason in gate.reasons:
            typer.echo(f"blocked: {reason.column}: {reason.detail}", err=True)
        if not options["allow_blocked"]:
            typer.echo("privacy gate failed: output not written", err=True)
            return EXIT_BLOCKED
    write_frame(result.frame, output)
    k = summary["k_anonymity"]["k"]
    typer.echo(
        f"{frame.height} rows -> {output} (key version {keys.version}, "
        f"gate {'skipped' if gate is None else 'passed' if gate.passed else 'FAILED'}, k={k})",
        err=True,
    )
    return 0


def register(app: typer.Typer) -> None:
    @app.command("anonymize")
    def anonymize(
        rules: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Rules YAML/JSON.")],
        input: Annotated[Path, typer.Option(exists=True, dir_okay=False, help=".csv/.parquet")],
        output: Annotated[Path, typer.Option(help="Output .parquet (or .csv).")],
        report: Annotated[Path | None, typer.Option(help="Write the privacy report JSON.")] = None,
        key_file: Annotated[
            Path | None,
            typer.Option(exists=True, dir_okay=False, help="Key file (else ETLX_PSEUDONYM_KEY)."),
        ] = None,
        gate: Annotated[bool, typer.Option(help="Run the privacy gate on the result.")] = True,
        allow_blocked: Annotated[
            bool, typer.Option(help="Write the output even when the gate fails.")
        ] = False,
    ) -> None:
        """Anonymize a file with a rules file (same engine as the pipeline, without Airflow)."""
        options = {"key_file": key_file, "gate": gate, "allow_blocked": allow_blocked}
        try:
            code = run(rules, input, output, report, options)
        except ValidationFailed as exc:
            for error in exc.errors:
                typer.echo(f"error: {error.path}: {error.message}", err=True)
            raise typer.Exit(EXIT_INVALID) from exc
        except EtlxError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_INVALID) from exc
        raise typer.Exit(code)

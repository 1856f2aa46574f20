from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from etl_express.cli import _register, app

KEY = "cli-test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def write(tmp_path: Path, rules: str) -> tuple[Path, Path]:
    data = tmp_path / "in.csv"
    pl.DataFrame(
        {"id": ["1", "2"], "email": ["a@x.ru", "b@y.ru"], "inn": ["007707083893", None]}
    ).write_csv(data)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(rules, encoding="utf-8")
    return data, rules_file


def test_anonymize_csv_to_parquet_with_report(tmp_path: Path, runner: CliRunner) -> None:
    data, rules = write(
        tmp_path,
        "columns:\n  id: {operator: keep}\n  email: {operator: pseudonym, prefix: em_}\n"
        "  inn: {operator: mask, keep_last: 2}\nquasi_identifiers: [id]\n",
    )
    out, report = tmp_path / "out.parquet", tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "anonymize",
            "--rules",
            str(rules),
            "--input",
            str(data),
            "--output",
            str(out),
            "--report",
            str(report),
        ],
        env={"ETLX_PSEUDONYM_KEY": KEY},
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame["inn"].to_list() == ["*" * 10 + "93", None]  # leading zero kept: read as text
    assert frame["email"][0].startswith("em_")
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["gate"]["passed"] and body["k_anonymity"]["k"] == 1
    assert body["columns"]["email"]["changed"] == 2


def test_errors_name_the_field(tmp_path: Path, runner: CliRunner) -> None:
    data, rules = write(tmp_path, "columns:\n  email: {operator: mask, keep_first: x}\n")
    args = ["anonymize", "--rules", str(rules), "--input", str(data), "--output", "o.parquet"]
    result = runner.invoke(app, args, env={"ETLX_PSEUDONYM_KEY": KEY})
    assert result.exit_code == 2
    assert "$.columns.email.keep_first" in result.output


def test_missing_key_is_reported(tmp_path: Path, runner: CliRunner) -> None:
    data, rules = write(tmp_path, "columns:\n  email: {operator: pseudonym}\n")
    args = ["anonymize", "--rules", str(rules), "--input", str(data), "--output", "o.parquet"]
    result = runner.invoke(app, args, env={"ETLX_PSEUDONYM_KEY": ""})
    assert result.exit_code == 2 and "ETLX_PSEUDONYM_KEY" in result.output


def test_key_file_and_blocked_batch(tmp_path: Path, runner: CliRunner) -> None:
    # the email column is personal, but id is kept and happens to hold an email: a leak
    data = tmp_path / "in.csv"
    pl.DataFrame({"id": ["a@x.ru"], "email": ["a@x.ru"]}).write_csv(data)
    rules = tmp_path / "rules.yaml"
    rules.write_text("columns:\n  email: {operator: redact}\n", encoding="utf-8")
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    out = tmp_path / "out.parquet"
    args = [
        "anonymize",
        "--rules",
        str(rules),
        "--input",
        str(data),
        "--output",
        str(out),
        "--key-file",
        str(key_file),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 3 and not out.exists()
    assert "blocked: id:" in result.output and "a@x.ru" not in result.output
    assert runner.invoke(app, [*args, "--allow-blocked"]).exit_code == 0 and out.exists()

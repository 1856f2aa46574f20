"""The records corpus anonymized with include/privacy/records_rules.yaml and the real detector
leaves no original personal value behind (the leak check `make eval-privacy` reports)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from etl_express.anonymize.evaluate import leak_check_records

ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path("/work/shared/privacy-corpus/records.csv")
RULES = ROOT / "include" / "privacy" / "records_rules.yaml"

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="privacy corpus not on this machine")


def test_records_leak_nothing() -> None:
    report = leak_check_records(CORPUS, RULES)
    assert report["rows"] == 2000
    assert report["exact_leaks_by_column"] == dict.fromkeys(report["pii_columns"], 0)
    assert report["leaked_spans"] == 0, report["leaked_by_entity"]
    assert report["text_cells_containing_original_pii"] == {"comment": 0}
    assert report["gate"]["passed"], report["gate"]
    assert report["zero_leaks"]
    assert report["entities"]["PERSON"]["replaced"] > 0


def test_cli_on_records_sample(tmp_path: Path) -> None:
    from etl_express.cli import _register, app

    _register()
    sample = tmp_path / "sample.csv"
    pl.read_csv(CORPUS, infer_schema=False).head(300).write_csv(sample)
    out, report = tmp_path / "out.parquet", tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "anonymize",
            "--rules",
            str(RULES),
            "--input",
            str(sample),
            "--output",
            str(out),
            "--report",
            str(report),
        ],
        env={"ETLX_PSEUDONYM_KEY": "integration-key-0123456789abcdef"},
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert "address" not in frame.columns and "person_id" in frame.columns
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["gate"]["passed"]
    assert body["key"]["version"] == "1"
    assert body["quasi_identifiers"] == ["birth_date", "city"]

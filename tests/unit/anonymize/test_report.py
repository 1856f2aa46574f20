from __future__ import annotations

import polars as pl
import pytest

from etl_express.anonymize.gate import GateResult
from etl_express.anonymize.report import k_anonymity, privacy_report
from etl_express.errors import ValidationFailed

FRAME = pl.DataFrame(
    {
        "year": ["1980", "1980", "1980", "1990", "1990", "2000", None, None],
        "city": ["a", "a", "a", "b", "b", "c", "d", "d"],
        "x": list(range(8)),
    }
)


def test_k_anonymity_of_known_frame() -> None:
    # groups: (1980,a)=3, (1990,b)=2, (2000,c)=1, (None,d)=2
    assert k_anonymity(FRAME, ["year", "city"]) == {
        "k": 1,
        "unique_rows": 1,
        "unique_share": 0.125,
        "groups": 4,
    }
    assert k_anonymity(FRAME.filter(pl.col("year") != "2000"), ["year", "city"])["k"] == 2


def test_no_quasi_identifiers_or_rows() -> None:
    assert k_anonymity(FRAME, [])["k"] is None
    assert k_anonymity(FRAME.clear(), ["year"])["k"] is None


def test_missing_quasi_identifier_named() -> None:
    with pytest.raises(ValidationFailed) as info:
        k_anonymity(FRAME, ["year", "zip"])
    assert info.value.errors[0].path == "$.quasi_identifiers"
    assert "zip" in info.value.errors[0].message


def test_report_bundles_stats_and_gate() -> None:
    stats = {"rows": 8, "key": {"version": "1"}, "columns": {"x": {"operator": "keep"}}}
    report = privacy_report(FRAME, stats, ["city"], GateResult(True, [], 24))
    assert report["k_anonymity"]["k"] == 1
    assert report["gate"] == {"passed": True, "checked_cells": 24, "reasons": []}
    assert report["columns"]["x"]["operator"] == "keep"

from __future__ import annotations

import datetime as dt

import pytest

from etl_express.sources.base import SourceError
from etl_express.sources.templates import render_mysql, render_postgres

START = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


def test_postgres_templates_become_typed_settings() -> None:
    sql, settings = render_postgres(
        "SELECT * FROM t WHERE a >= {{ data_interval_start }} AND d = '{{ ds }}' "
        "AND r = {{ params.region }} AND n IS {{ params.none }}",
        {"data_interval_start": START, "ds": dt.date(2024, 5, 1),
         "params": {"region": "north'; --", "none": None}},
    )  # fmt: skip
    assert sql == (
        "SELECT * FROM t WHERE a >= current_setting('etlx.v0')::timestamptz "
        "AND d = current_setting('etlx.v1')::date AND r = current_setting('etlx.v2')::text "
        "AND n IS NULL"
    )
    assert settings == [
        ("etlx.v0", "2024-05-01T12:00:00+00:00"),
        ("etlx.v1", "2024-05-01"),
        ("etlx.v2", "north'; --"),
    ]


def test_unknown_variables_and_params_are_errors() -> None:
    with pytest.raises(SourceError, match="no param 'x'"):
        render_postgres("SELECT {{ params.x }}", {"params": {}})
    with pytest.raises(SourceError, match="does not provide"):
        render_postgres("SELECT {{ prev_ds }}", {})
    with pytest.raises(SourceError, match="only name a variable"):
        render_postgres("SELECT {{ ds | upper }}", {"ds": "x"})


def test_mysql_literals_come_from_types() -> None:
    sql = render_mysql(
        "SELECT * FROM t WHERE a >= {{ data_interval_start }} AND k = {{ params.k }} "
        "AND f = {{ params.f }}",
        {"data_interval_start": START, "params": {"k": 7, "f": True}},
    )
    assert sql == "SELECT * FROM t WHERE a >= '2024-05-01 12:00:00.000000' AND k = 7 AND f = TRUE"

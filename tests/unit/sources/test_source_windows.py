from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from etl_express.sources.base import IncrementalWindow
from etl_express.sources.mysql import render_bound
from etl_express.sources.mysql import windowed_query as mysql_window
from etl_express.sources.postgres import _decimal_type, libpq_url, windowed_query


def test_postgres_window_binds_values_not_sql() -> None:
    lower = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    window = IncrementalWindow("updated_at", lower, dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    sql, values = windowed_query("SELECT * FROM t;", window)
    assert "2024" not in sql
    assert "current_setting('etlx.lower')::timestamptz" in sql
    assert values == ["etlx.lower", lower.isoformat(), "etlx.upper", "2024-01-02T00:00:00+00:00"]


def test_postgres_open_window_is_the_query_itself() -> None:
    assert windowed_query("SELECT 1", IncrementalWindow("c")) == ("SELECT 1", [])
    assert windowed_query("SELECT 1", None) == ("SELECT 1", [])


def test_window_rejects_odd_columns_and_text_bounds() -> None:
    with pytest.raises(ValueError):
        IncrementalWindow('x"; DROP TABLE t; --')
    with pytest.raises(TypeError):
        IncrementalWindow("c", "2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        IncrementalWindow("c", True)


def test_mysql_bounds_render_from_typed_values_in_utc() -> None:
    moscow = dt.timezone(dt.timedelta(hours=3))
    assert render_bound(dt.datetime(2024, 1, 1, 3, 0, tzinfo=moscow)) == (
        "'2024-01-01 00:00:00.000000'"
    )
    assert render_bound(dt.date(2024, 2, 29)) == "'2024-02-29'"
    assert render_bound(42) == "42"
    assert render_bound(Decimal("1.50")) == "1.50"
    sql = mysql_window("SELECT * FROM t", IncrementalWindow("id", 10, 20))
    assert sql.endswith("WHERE `id` >= 10 AND `id` < 20")


def test_numeric_precision_comes_from_the_typmod() -> None:
    import pyarrow as pa

    field = pa.field("x", pa.string(), metadata={"POSTGRESQL:typmod": str(((12 << 16) | 2) + 4)})
    assert _decimal_type(field) == pa.decimal128(12, 2)
    assert _decimal_type(pa.field("y", pa.string())) == pa.decimal128(38, 10)


def test_libpq_url_drops_the_sqlalchemy_driver() -> None:
    assert libpq_url("postgresql+psycopg://u@h:5432/db") == "postgresql://u@h:5432/db"
    assert libpq_url("postgresql://u@h/db") == "postgresql://u@h/db"

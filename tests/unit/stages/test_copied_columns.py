"""Copied columns kept out of DuckDB give the result DuckDB gives with them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from etl_express.stages.copied_columns import copy_plan
from etl_express.stages.transform import _chunk_cursor, _whole_result, chunkwise

UTC = dt.UTC
ROWS = 6


def _input() -> pa.Table:
    def cycle(values: list[object], dtype: pa.DataType) -> pa.Array:
        return pa.array([values[i % len(values)] for i in range(ROWS)], dtype)

    return pa.table(
        {
            "id": cycle([1, -(2**63), 2**63 - 1, None], pa.int64()),
            "small": cycle([0, 65535, None], pa.uint16()),
            "ratio": cycle([0.5, -0.0, float("inf"), None], pa.float64()),
            "flag": cycle([True, False, None], pa.bool_()),
            "name": cycle(["Анна", "", "a\tb", None], pa.string()),
            "note": cycle(["x", None, "ü"], pa.large_string()),
            "born": cycle([dt.date(1900, 1, 1), None, dt.date(2100, 12, 31)], pa.date32()),
            "seen": cycle(
                [dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None],
                pa.timestamp("us", "UTC"),
            ),
            "local": cycle([dt.datetime(1970, 1, 1), None], pa.timestamp("us")),
            "amount": cycle(
                [Decimal("-1234567890.12"), Decimal("0.01"), None], pa.decimal128(12, 2)
            ),
            "clock": cycle([dt.time(23, 59, 59, 999999), None], pa.time64("us")),
            "stamp_ns": cycle([1_700_000_000_123_456_789, None], pa.timestamp("ns")),
            "blob": cycle([b"\x00\xff", None], pa.binary()),
        }
    )


def _through_duckdb(sql: str, table: pa.Table) -> pa.Table:
    with _chunk_cursor() as con:
        con.register("source", table)
        return _whole_result(con, sql)


KEPT_OUT = [
    "SELECT id, name, amount * 2 AS double, seen FROM source",
    "SELECT * FROM source",
    "SELECT *, amount > 1 AS big FROM source",
    "SELECT s.id AS key, upper(s.name) AS shout, s.seen, local FROM source AS s",
    "SELECT ID, Name, NOTE FROM source",
    "SELECT id, id AS id_again, name || '!', ratio, small, flag, born FROM source",
    "SELECT note, amount, clock, stamp_ns, blob FROM source",
]
THROUGH_DUCKDB = [
    "SELECT amount AS a, a + 1 AS b FROM source",  # a later item reads an earlier alias
    "SELECT id, name FROM source WHERE id > 2",
    "SELECT * EXCLUDE (name) FROM source",
    "SELECT COLUMNS('n.*') FROM source",
    "SELECT id // 2 AS half, name || id AS tag FROM source",  # every column is read
    "SELECT clock, stamp_ns, blob FROM source",  # types DuckDB may change
    "SELECT 1 AS one",
]


@pytest.mark.parametrize("sql", KEPT_OUT)
def test_a_query_copying_columns_gives_what_duckdb_gives(sql: str) -> None:
    table = _input()
    assert copy_plan(sql, "source", table.schema) is not None
    assert chunkwise(sql, "source", table, table.schema).equals(_through_duckdb(sql, table))


@pytest.mark.parametrize("sql", THROUGH_DUCKDB)
def test_other_queries_go_through_duckdb_whole(sql: str) -> None:
    table = _input()
    assert copy_plan(sql, "source", table.schema) is None
    assert chunkwise(sql, "source", table, table.schema).equals(_through_duckdb(sql, table))


def test_the_plan_keeps_in_duckdb_what_a_computed_item_reads() -> None:
    schema = _input().schema
    plan = copy_plan("SELECT id, name, amount * 2 AS double, clock FROM source", "source", schema)
    assert plan is not None
    assert plan.nulled == {"id", "name"}  # amount is read, a time64 may change in DuckDB
    assert plan.copies == ((0, "id"), (1, "name"))


def test_an_empty_chunk_and_names_differing_only_in_case() -> None:
    table = _input().slice(0, 0)
    sql = "SELECT id, amount > 0 AS positive FROM source"
    assert chunkwise(sql, "source", table, table.schema).equals(_through_duckdb(sql, table))
    twins = pa.table({"a": [1], "A": [2]})
    assert copy_plan("SELECT a FROM source", "source", twins.schema) is None

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from etl_express.stages.errors import SafeMessageError
from etl_express.stages.transform import (
    SEQ,
    chunkwise,
    dropped_positions,
    run_transform,
    stream_transform,
)
from etl_express.stages.transform_mode import chunkwise_input, transform_mode


def test_types_survive_and_sql_sees_named_inputs() -> None:
    table = pa.table(
        {
            "amount": pa.array([Decimal("1.25"), None], pa.decimal128(12, 2)),
            "ts": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), None], pa.timestamp("us", "UTC")
            ),
            "name": ["Пётр", None],
        }
    )
    out = run_transform("SELECT amount, ts, upper(name) AS name FROM input", {"input": table})
    assert out.schema.field("amount").type == pa.decimal128(12, 2)
    assert out.column("amount").to_pylist() == [Decimal("1.25"), None]
    assert out.column("ts")[0].as_py() == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert out.column("name").to_pylist() == ["ПЁТР", None]


def test_polars_input_and_streaming_batches() -> None:
    frame = pl.DataFrame({"n": list(range(10))})
    batches = list(
        stream_transform("SELECT n FROM input WHERE n % 2 = 0", {"input": frame}, batch_rows=2)
    )
    assert sum(b.num_rows for b in batches) == 5


def test_files_and_settings_are_out_of_reach(tmp_path: object) -> None:
    with pytest.raises(SafeMessageError, match="transformation SQL failed"):
        run_transform("SELECT * FROM read_csv('/etc/hostname')", {"input": pa.table({"a": [1]})})
    with pytest.raises(SafeMessageError):
        run_transform("SET enable_external_access = true", {"input": pa.table({"a": [1]})})


def test_sql_errors_name_the_problem() -> None:
    with pytest.raises(SafeMessageError, match="nope"):
        run_transform("SELECT nope FROM input", {"input": pa.table({"a": [1]})})


def test_empty_input() -> None:
    empty = pa.table({"a": pa.array([], pa.int64())})
    assert run_transform("SELECT a * 2 AS b FROM input", {"input": empty}).num_rows == 0


@pytest.mark.parametrize(
    ("sql", "mode"),
    [
        ("SELECT a, upper(b) AS b FROM input WHERE a > 1", "per_chunk"),
        ("SELECT count(*) FROM input", "whole"),
        ("SELECT * FROM input ORDER BY a", "whole"),
        ("SELECT DISTINCT a FROM input", "whole"),
        ("SELECT a, row_number() OVER () FROM input", "whole"),
        ("SELECT * FROM input JOIN other USING (a)", "whole"),
    ],
)
def test_transform_mode(sql: str, mode: str) -> None:
    assert transform_mode(sql) == mode


@pytest.mark.parametrize(
    ("keep", "expected"), [("first", ["a1", "b1", "n1"]), ("last", ["a2", "b1", "n2"])]
)
def test_dedupe_keeps_first_or_last_by_position_over_a_staged_dataset(
    tmp_path: Path, keep: str, expected: list[str]
) -> None:
    import pyarrow.parquet as pq

    from etl_express.stages.transform import SEQ, Dedupe, StagedChunks

    # two staged chunks; the key "a" and the null key repeat across them
    pq.write_table(
        pa.table(
            {"k": ["a", "b", None], "v": ["a1", "b1", "n1"], SEQ: pa.array([0, 1, 2], pa.int64())}
        ),
        tmp_path / "c0.parquet",
    )
    pq.write_table(pa.table({"k": ["a", None], "v": ["a2", "n2"],
                             SEQ: pa.array([1 << 32, (1 << 32) + 1], pa.int64())}),
                   tmp_path / "c1.parquet")  # fmt: skip
    staged = StagedChunks(tuple(sorted(str(p) for p in tmp_path.glob("*.parquet"))))
    batches = stream_transform(
        "SELECT * FROM src", {"src": staged}, dedupe={"src": Dedupe(("k",), keep)}
    )
    out = pa.Table.from_batches(list(batches))
    assert SEQ not in out.column_names
    assert sorted(out.column("v").to_pylist()) == expected


def test_dedupe_larger_than_its_memory_limit_spills_and_cleans_up(tmp_path: Path) -> None:
    import os
    import tempfile

    import pyarrow.parquet as pq

    from etl_express.stages.transform import SEQ, Dedupe, StagedChunks

    rows = 600_000
    keys = pa.array([f"key-{i % (rows // 2):09d}" for i in range(rows)])
    pq.write_table(
        pa.table({"k": keys, SEQ: pa.array(range(rows), pa.int64())}), tmp_path / "c.parquet"
    )
    before = set(os.listdir(tempfile.gettempdir()))
    batches = stream_transform(
        "SELECT count(*) AS n, count(DISTINCT k) AS d FROM src",
        {"src": StagedChunks((str(tmp_path / "c.parquet"),))},
        dedupe={"src": Dedupe(("k",))},
        memory_mb=64,
    )
    out = pa.Table.from_batches(list(batches)).to_pylist()
    assert out == [{"n": rows // 2, "d": rows // 2}]
    after = set(os.listdir(tempfile.gettempdir()))
    assert not {p for p in after - before if p.startswith("etlx-duckdb-")}


def test_an_empty_result_is_one_empty_batch_with_its_schema() -> None:
    table = pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string())})
    batches = list(stream_transform("SELECT id, upper(name) AS name FROM t", {"t": table}))
    assert [b.num_rows for b in batches] == [0]
    assert batches[0].schema.names == ["id", "name"]


@pytest.mark.parametrize(
    ("sql", "inputs", "expected"),
    [
        ("SELECT a, upper(b) AS b FROM input WHERE a > 1", ["input"], "input"),
        ("SELECT 1 AS a", ["input"], None),  # reads no input: one row per chunk would be wrong
        ("SELECT * FROM other", ["input"], None),
        ("SELECT * FROM input", ["input", "other"], None),
        ("SELECT count(*) FROM input", ["input"], None),
        ("SELECT * FROM input UNION ALL SELECT * FROM input", ["input"], None),
        ("not sql at all (", ["input"], None),
    ],
)
def test_chunkwise_input(sql: str, inputs: list[str], expected: str | None) -> None:
    assert chunkwise_input(sql, inputs) == expected


def test_dropped_positions_are_the_chunks_rows_not_kept() -> None:
    base = 2 << 32
    kept = np.array([5, 1 << 32, base, base + 2, base + 3, 3 << 32])
    assert dropped_positions(kept, 2, 5).tolist() == [base + 1, base + 4]
    assert dropped_positions(kept, 4, 2).tolist() == [4 << 32, (4 << 32) + 1]
    assert dropped_positions(kept, 2, 0).tolist() == []


def test_chunkwise_casts_drops_and_hides_the_position() -> None:
    schema = pa.schema([("a", pa.int64()), ("b", pa.string()), (SEQ, pa.int64())])
    # a column null in this whole chunk arrives typed null
    table = pa.table({"a": [1, 2, 3], "b": pa.nulls(3), SEQ: [10, 11, 12]})
    out = chunkwise("SELECT * FROM input", "input", table, schema, pa.array([11], pa.int64()))
    assert out.column_names == ["a", "b"] and out.schema.field("b").type == pa.string()
    assert out.column("a").to_pylist() == [1, 3]


def test_intervals_come_out_as_microsecond_durations() -> None:
    table = pa.table({"t": pa.array([dt.datetime(2024, 1, 1), None], pa.timestamp("us"))})
    sql = (
        "SELECT t, t - TIMESTAMP '2023-12-31' AS age, INTERVAL 1 MONTH AS month, "
        "t IS NULL AS missing FROM input"
    )
    out = run_transform(sql, {"input": table})
    assert out.schema.field("age").type == pa.duration("us")
    assert out.column("age").to_pylist() == [dt.timedelta(days=1), None]
    assert out.column("month").to_pylist() == [dt.timedelta(days=30)] * 2  # DuckDB's epoch
    streamed = pa.Table.from_batches(list(stream_transform(sql, {"input": table})))
    assert streamed.equals(out)
    assert pl.from_arrow(out).schema["age"] == pl.Duration("us")  # polars reads it


def test_chunkwise_queries_share_a_locked_database_but_not_their_inputs() -> None:
    """Row-wise chunk queries run on cursors of one process-wide DuckDB database: each sees
    only the chunk it was given, and the database is as locked down as a private one."""
    schema = pa.schema([("n", pa.int64())])
    first = chunkwise("SELECT n * 2 AS n FROM chunk_a", "chunk_a", pa.table({"n": [1, 2]}), schema)
    assert first.column("n").to_pylist() == [2, 4]
    with pytest.raises(SafeMessageError, match="chunk_a"):  # the earlier chunk is gone
        chunkwise("SELECT * FROM chunk_a", "chunk_b", pa.table({"n": [3]}), schema)
    with pytest.raises(SafeMessageError, match="transformation SQL failed"):
        chunkwise("SELECT * FROM read_csv('/etc/hostname')", "c", pa.table({"n": [1]}), schema)
    with pytest.raises(SafeMessageError, match="transformation SQL failed"):
        chunkwise("SELECT current_setting('threads') FROM c; SET enable_external_access = true",
                  "c", pa.table({"n": [1]}), schema)  # fmt: skip
    again = chunkwise("SELECT n + 1 AS n FROM chunk_a", "chunk_a", pa.table({"n": [5]}), schema)
    assert again.column("n").to_pylist() == [6]

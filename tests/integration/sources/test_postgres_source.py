"""PostgreSQL source on a real server: exact types, windows, read-only, timeout, disconnects."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from etl_express.sources import IncrementalWindow, SourceError, open_source
from etl_express.sources.postgres import PostgresSourceConfig
from etl_express.sources.templates import render_postgres
from etl_express.stages.errors import StageError
from etl_express.stages.extract import extract_to_staging
from etl_express.staging import StagingStore

UTC = dt.UTC


@pytest.fixture(scope="module")
def source_db(pg_database: str) -> Iterator[str]:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS src_types")
        conn.execute(
            "CREATE TABLE src_types (id bigint PRIMARY KEY, amount numeric(12,2), "
            "ratio numeric, born date, seen timestamptz, name text)"
        )
        conn.execute(
            "INSERT INTO src_types SELECT g, (g * 1.01)::numeric(12,2), "
            "CASE WHEN g % 2 = 0 THEN 0.1234567891 END, DATE '2000-01-01' + g, "
            "TIMESTAMPTZ '2024-01-01 00:00:00+00' + make_interval(hours => g), "
            "CASE WHEN g % 3 = 0 THEN NULL ELSE 'Пётр ' || g || ' 🙂' END "
            "FROM generate_series(1, 1000) g"
        )
        conn.execute("CREATE SEQUENCE IF NOT EXISTS src_seq")
    yield pg_database


def _read(url: str, query: str, **kwargs: object) -> pa.Table:
    config = PostgresSourceConfig(url, query, **kwargs)  # type: ignore[arg-type]
    return pa.Table.from_batches(list(open_source(config).batches()))


def test_types_survive_exactly(source_db: str) -> None:
    table = _read(source_db, "SELECT * FROM src_types ORDER BY id", chunk_rows=300)
    assert table.schema.field("amount").type == pa.decimal128(12, 2)
    assert table.schema.field("ratio").type == pa.decimal128(38, 10)
    assert table.schema.field("born").type == pa.date32()
    assert table.schema.field("seen").type == pa.timestamp("us", tz="UTC")
    row = table.slice(1, 1).to_pylist()[0]
    assert row == {
        "id": 2,
        "amount": Decimal("2.02"),
        "ratio": Decimal("0.1234567891"),
        "born": dt.date(2000, 1, 3),
        "seen": dt.datetime(2024, 1, 1, 2, tzinfo=UTC),
        "name": "Пётр 2 🙂",
    }
    assert table.column("name")[2].as_py() is None


def test_numerics_come_exactly_through_any_query_shape(source_db: str) -> None:
    # numeric columns are read as text through a wrapping query; a repeated name is read as
    # written
    for query in (
        "SELECT amount, ratio, amount * 2 AS twice FROM src_types ORDER BY id;",
        "SELECT amount, amount, ratio FROM src_types ORDER BY id",
        "SELECT amount, ratio, amount * 2 AS twice FROM src_types ORDER BY id -- note\n",
    ):
        table = _read(source_db, query, chunk_rows=300)
        assert table.num_rows == 1000, query
        assert table.column(0).type == pa.decimal128(12, 2)
        assert table.column(0)[1].as_py() == Decimal("2.02")
        assert table.column(1).to_pylist()[1:3] in (
            [Decimal("2.02"), Decimal("3.03")],
            [Decimal("0.1234567891"), None],
        )


def test_chunks_are_bounded(source_db: str) -> None:
    config = PostgresSourceConfig(source_db, "SELECT * FROM src_types", chunk_rows=300)
    assert [b.num_rows for b in open_source(config).batches()] == [300, 300, 300, 100]


def test_incremental_window_selects_half_open_interval(source_db: str) -> None:
    window = IncrementalWindow(
        "seen", dt.datetime(2024, 1, 1, 10, tzinfo=UTC), dt.datetime(2024, 1, 1, 20, tzinfo=UTC)
    )
    table = _read(source_db, "SELECT id, seen FROM src_types", window=window)
    assert sorted(table.column("id").to_pylist()) == list(range(10, 20))


def test_templates_bind_typed_values(source_db: str) -> None:
    query, settings = render_postgres(
        "SELECT id FROM src_types WHERE seen >= {{ data_interval_start }} AND name LIKE "
        "'{{ params.prefix }}' || '%'",
        {"data_interval_start": dt.datetime(2024, 2, 11, 12, tzinfo=UTC),
         "params": {"prefix": "Пётр 99"}},
    )  # fmt: skip
    assert "2024" not in query and "Пётр" not in query
    table = _read(source_db, query, settings=tuple(settings))
    assert sorted(table.column("id").to_pylist()) == [
        997,
        998,
    ]  # ids from 996 on; 996 and 999 have no name


def test_injection_through_a_param_stays_data(source_db: str) -> None:
    query, settings = render_postgres(
        "SELECT id FROM src_types WHERE name = {{ params.x }}",
        {"params": {"x": "x'; DROP TABLE src_types; --"}},
    )
    assert _read(source_db, query, settings=tuple(settings)).num_rows == 0
    assert _read(source_db, "SELECT count(*) AS n FROM src_types").column("n")[0].as_py() == 1000


def test_session_is_read_only(source_db: str) -> None:
    with pytest.raises(SourceError, match="read-only"):
        _read(source_db, "SELECT nextval('src_seq')")


def test_statement_timeout(source_db: str) -> None:
    with pytest.raises(SourceError, match="statement timeout"):
        _read(source_db, "SELECT pg_sleep(5)", statement_timeout_s=1)


def test_empty_result_is_one_empty_chunk_with_schema(source_db: str) -> None:
    batches = list(
        open_source(
            PostgresSourceConfig(source_db, "SELECT * FROM src_types WHERE false")
        ).batches()
    )
    assert len(batches) == 1 and batches[0].num_rows == 0
    assert batches[0].schema.field("amount").type == pa.decimal128(12, 2)


def _terminate_soon(url: str, marker: str) -> threading.Thread:
    def kill() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(100):
                done = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE %s AND pid <> pg_backend_pid()",
                    (f"%{marker}%",),
                ).fetchall()
                if done:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


def test_disconnect_mid_stream_fails_cleanly_and_retry_overwrites(
    source_db: str, tmp_path: Path
) -> None:
    store = StagingStore(str(tmp_path))
    marker = "etlx_disconnect_probe"
    slow = (
        f"SELECT g AS id, repeat('x', 200) AS pad, pg_sleep(CASE WHEN g % 20000 = 0 THEN 0.2 "
        f"ELSE 0 END) AS {marker} FROM generate_series(1, 200000) g"
    )
    killer = _terminate_soon(source_db, marker)
    with pytest.raises(StageError) as failed:
        extract_to_staging(
            open_source(PostgresSourceConfig(source_db, slow, chunk_rows=10_000)), store, "r1"
        )
    killer.join()
    assert failed.value.stage == "extract"
    assert (
        "terminat" in failed.value.message.lower() or "connection" in failed.value.message.lower()
    )
    # the retry starts over: complete, no stale chunk left from the broken attempt
    good = "SELECT g AS id FROM generate_series(1, 25000) g"
    result = extract_to_staging(
        open_source(PostgresSourceConfig(source_db, good, chunk_rows=10_000)), store, "r1"
    )
    assert (result.chunks, result.rows) == (3, 25000)
    assert store.chunks("r1", "extract") == [0, 1, 2]


def test_a_query_ending_in_a_comment_streams(source_db: str) -> None:
    query = "SELECT id, amount FROM src_types WHERE id <= 3 -- the first three"
    assert _read(source_db, query).column("id").to_pylist() == [1, 2, 3]
    window = IncrementalWindow("id", 2, None)
    assert _read(source_db, query, window=window).column("id").to_pylist() == [2, 3]

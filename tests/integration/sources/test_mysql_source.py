"""MariaDB source on the real server (127.0.0.1:3306, root): types, chunks, window, read-only."""

from __future__ import annotations

import datetime as dt
import secrets
import subprocess
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest

from etl_express.sources import IncrementalWindow, SourceError, open_source
from etl_express.sources.mysql import MySqlSourceConfig
from etl_express.sources.templates import render_mysql

SERVER = "mysql://root@127.0.0.1:3306"


def _sql(statement: str) -> None:
    subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", "-e", statement], check=True)


@pytest.fixture(scope="module")
def maria() -> Iterator[str]:
    import connectorx as cx

    try:
        cx.read_sql(SERVER + "/mysql", "SELECT 1 AS one", return_type="arrow")
    except RuntimeError:
        pytest.skip("MariaDB is not running on 127.0.0.1:3306")
    name = f"etlx_stages_{secrets.token_hex(4)}"
    _sql(
        f"CREATE DATABASE {name} CHARACTER SET utf8mb4; CREATE TABLE {name}.people ("
        "id BIGINT PRIMARY KEY, amount DECIMAL(12,2), born DATE, seen DATETIME(6), "
        "name VARCHAR(100)) CHARACTER SET utf8mb4; "
        f"USE {name}; INSERT INTO people SELECT seq, seq * 1.01, "
        "DATE '2000-01-01' + INTERVAL seq DAY, "
        "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq HOUR, "
        "IF(seq % 3 = 0, NULL, CONCAT('Пётр ', seq)) FROM seq_1_to_1000;"
    )
    try:
        yield f"{SERVER}/{name}"
    finally:
        _sql(f"DROP DATABASE {name}")


def _read(url: str, query: str, **kwargs: object) -> pa.Table:
    config = MySqlSourceConfig(url, query, **kwargs)  # type: ignore[arg-type]
    return pa.Table.from_batches(list(open_source(config).batches()))


def test_types_and_chunks(maria: str) -> None:
    config = MySqlSourceConfig(maria, "SELECT * FROM people ORDER BY id", chunk_rows=400)
    batches = list(open_source(config).batches())
    assert [b.num_rows for b in batches] == [400, 400, 200]
    row = batches[0].slice(1, 1).to_pylist()[0]
    assert row == {
        "id": 2,
        "amount": Decimal("2.02"),
        "born": dt.date(2000, 1, 3),
        "seen": dt.datetime(2024, 1, 1, 2),
        "name": "Пётр 2",
    }


def test_window_and_templates(maria: str) -> None:
    window = IncrementalWindow(
        "seen",
        dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 1, 20, tzinfo=dt.UTC),
    )
    assert sorted(
        _read(maria, "SELECT id, seen FROM people", window=window).column("id").to_pylist()
    ) == list(range(10, 20))
    query = render_mysql(
        "SELECT id FROM people WHERE born >= {{ ds }} AND id < {{ params.limit }}",
        {"ds": dt.date(2002, 9, 1), "params": {"limit": 1000}},
    )
    assert _read(maria, query).column("id").to_pylist() == list(range(974, 1000))


def test_unsafe_text_param_is_refused(maria: str) -> None:
    with pytest.raises(SourceError, match=r"params\.x"):
        render_mysql("SELECT 1 WHERE 'a' = {{ params.x }}", {"params": {"x": "a' OR '1'='1"}})


def test_session_is_read_only_with_a_time_limit(maria: str) -> None:
    table = _read(
        maria,
        "SELECT @@session.tx_read_only AS ro, @@session.max_statement_time AS lim",
        statement_timeout_s=7,
    )
    row = table.to_pylist()[0]
    assert int(row["ro"]) == 1 and float(row["lim"]) == 7.0


def test_bad_query_is_a_source_error(maria: str) -> None:
    with pytest.raises(SourceError, match="MySQL source failed"):
        _read(maria, "SELECT nope FROM people")


def test_empty_result(maria: str) -> None:
    batches = list(
        open_source(MySqlSourceConfig(maria, "SELECT * FROM people WHERE 1 = 0")).batches()
    )
    assert sum(b.num_rows for b in batches) == 0


def test_a_query_ending_in_a_comment_reads_with_a_window(maria: str) -> None:
    window = IncrementalWindow("id", 2, None)
    query = "SELECT id FROM people WHERE id <= 3 -- the first three"
    assert sorted(_read(maria, query, window=window).column("id").to_pylist()) == [2, 3]

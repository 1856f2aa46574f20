from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl_express.sources import SourceError, open_source
from etl_express.sources.csv import CsvSourceConfig
from etl_express.sources.parquet import ParquetSourceConfig


def _rows(source_config: object) -> list[dict[str, object]]:
    source = open_source(source_config)  # type: ignore[arg-type]
    return [row for batch in source.batches() for row in batch.to_pylist()]


def test_csv_reads_every_column_as_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("inn,amount,name\n0012345678,10.10,Пётр\n,3.0,\n", encoding="utf-8")
    rows = _rows(CsvSourceConfig(str(path), chunk_rows=1000))
    assert rows == [
        {"inn": "0012345678", "amount": "10.10", "name": "Пётр"},
        {"inn": None, "amount": "3.0", "name": None},
    ]


def test_csv_chunks_span_files_in_sorted_order(tmp_path: Path) -> None:
    for i in range(3):
        lines = "\n".join(str(i * 10 + j) for j in range(10))
        (tmp_path / f"part{i}.csv").write_text("n\n" + lines + "\n")
    source = open_source(CsvSourceConfig(str(tmp_path / "*.csv"), chunk_rows=7))
    chunks = list(source.batches())
    assert [c.num_rows for c in chunks] == [7, 7, 7, 7, 2]
    assert [int(v) for c in chunks for v in c.column("n").to_pylist()] == list(range(30))


def test_csv_header_only_gives_one_empty_chunk(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n")
    chunks = list(open_source(CsvSourceConfig(str(path))).batches())
    assert len(chunks) == 1 and chunks[0].num_rows == 0 and chunks[0].schema.names == ["a", "b"]


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no CSV file"):
        list(open_source(CsvSourceConfig(str(tmp_path / "none*.csv"))).batches())


def test_parquet_streams_in_chunks_and_keeps_types(tmp_path: Path) -> None:
    from decimal import Decimal

    table = pa.table(
        {
            "id": pa.array(range(25), pa.int64()),
            "amount": pa.array([Decimal("1.25")] * 25, pa.decimal128(12, 2)),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=10)
    chunks = list(
        open_source(ParquetSourceConfig(str(tmp_path / "t.parquet"), chunk_rows=8)).batches()
    )
    assert [c.num_rows for c in chunks] == [8, 8, 8, 1]
    assert chunks[0].schema.field("amount").type == pa.decimal128(12, 2)
    assert chunks[0].column("amount")[0].as_py() == Decimal("1.25")


def test_parquet_corrupt_file_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(SourceError, match="Parquet source failed"):
        list(open_source(ParquetSourceConfig(str(tmp_path / "bad.parquet"))).batches())

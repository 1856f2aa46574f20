from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl_express.errors import ValidationFailed
from etl_express.spec import ExtractionSpec, QueryRejected, StaticContext, parse_script
from etl_express.spec.describe import describe_local_files


def _files(tmp_path: Path) -> Path:
    table = pa.table(
        {
            "id": pa.array([1], pa.int64()),
            "amount": pa.array([None], pa.decimal128(12, 2)),
            "at": pa.array([None], pa.timestamp("us", tz="UTC")),
        }
    )
    (tmp_path / "pq").mkdir()
    (tmp_path / "csv").mkdir()
    pq.write_table(table, tmp_path / "pq" / "part-0.parquet")
    (tmp_path / "csv" / "c.csv").write_bytes("id;Город;inn\n1;Казань;007\n".encode("cp1251"))
    return tmp_path


def test_parquet_schema_is_the_files_own(tmp_path: Path) -> None:
    folder = _files(tmp_path)
    columns = describe_local_files("parquet", str(folder / "pq" / "*.parquet"))
    assert [(c.name, c.type) for c in columns or []] == [
        ("id", "int64"),
        ("amount", "decimal128(12,2)"),
        ("at", "timestamp[us, tz=UTC]"),
    ]


def test_csv_columns_are_header_names_as_text(tmp_path: Path) -> None:
    folder = _files(tmp_path)
    columns = describe_local_files(
        "csv", str(folder / "csv" / "c.csv"), delimiter=";", encoding="cp1251"
    )
    assert [(c.name, c.type) for c in columns or []] == [
        ("id", "string"),
        ("Город", "string"),
        ("inn", "string"),
    ]


def test_missing_files_are_reported_and_s3_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(QueryRejected, match="no file matches"):
        describe_local_files("csv", str(tmp_path / "nothing-*.csv"))
    assert describe_local_files("parquet", "s3://bucket/x/") is None


def test_extraction_records_file_schema_and_checks_the_path(tmp_path: Path) -> None:
    folder = _files(tmp_path)
    ctx = StaticContext(read_local_files=True)
    spec = parse_script("extraction", {"source": "parquet", "path": str(folder / "pq")}, ctx)
    assert isinstance(spec, ExtractionSpec) and spec.output_schema is not None
    assert [c.name for c in spec.output_schema] == ["id", "amount", "at"]
    with pytest.raises(ValidationFailed) as failed:
        parse_script("extraction", {"source": "csv", "path": str(folder / "x*.csv")}, ctx)
    assert [e.path for e in failed.value.errors] == ["$.path"]

"""CSV/Parquet sources and the staging store on S3 (moto's S3 server, s3fs via fsspec)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl_express.sources import open_source
from etl_express.sources.csv import CsvSourceConfig
from etl_express.sources.parquet import ParquetSourceConfig
from etl_express.staging import StagingStore


@pytest.fixture(scope="module")
def s3(moto_s3: dict[str, Any]) -> dict[str, Any]:
    from s3_server import s3_client

    s3_client(moto_s3).create_bucket(Bucket="etlx-bucket")
    return moto_s3


def test_csv_and_parquet_stream_from_s3(s3: dict[str, Any]) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(**s3)
    with fs.open("etlx-bucket/in/a.csv", "wb") as handle:
        handle.write(b"id,name\n" + "".join(f"{i},Имя {i}\n" for i in range(25)).encode())
    with fs.open("etlx-bucket/in/b.parquet", "wb") as handle:
        pq.write_table(pa.table({"id": list(range(30))}), handle, row_group_size=7)
    csv = open_source(CsvSourceConfig("s3://etlx-bucket/in/*.csv", 10, storage_options=s3))
    assert [b.num_rows for b in csv.batches()] == [10, 10, 5]
    parquet = open_source(
        ParquetSourceConfig("s3://etlx-bucket/in/b.parquet", 12, storage_options=s3)
    )
    chunks = list(parquet.batches())
    assert [b.num_rows for b in chunks] == [12, 12, 6]
    assert chunks[2].column("id").to_pylist() == list(range(24, 30))


def test_staging_store_on_s3_overwrites_and_cleans_up(s3: dict[str, Any]) -> None:
    store = StagingStore("s3://etlx-bucket/staging", s3)
    run = "scheduled__2024-01-01T00:00:00+00:00"
    store.write(run, "extract", 0, pa.table({"a": [1, 2]}))
    store.write(run, "extract", 0, pa.table({"a": [3]}))
    store.write_json(run, "extract", 0, {"rows": 1})
    assert store.read(run, "extract", 0).column("a").to_pylist() == [3]
    assert store.chunks(run, "extract") == [0] and store.read_json(run, "extract", 0) == {"rows": 1}
    store.cleanup(run)
    assert store.chunks(run, "extract") == []

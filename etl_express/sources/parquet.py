"""Parquet source: row-group streaming over fsspec files (local, s3://...), types as stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl_express.sources.base import SourceError
from etl_express.sources.chunking import rechunk
from etl_express.sources.files import expand


@dataclass(frozen=True)
class ParquetSourceConfig:
    path: str
    chunk_rows: int = 100_000
    columns: tuple[str, ...] | None = None
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)


class ParquetSource:
    def __init__(self, config: ParquetSourceConfig) -> None:
        self.config = config
        self.chunk_rows = config.chunk_rows

    def _file_batches(self, fs: Any, path: str) -> Iterator[pa.RecordBatch]:
        columns = list(self.config.columns) if self.config.columns else None
        with fs.open(path, "rb") as handle:
            pf = pq.ParquetFile(handle)
            seen = False
            for batch in pf.iter_batches(batch_size=self.chunk_rows, columns=columns):
                seen = True
                yield batch
            if not seen:
                schema = pf.schema_arrow
                if columns:
                    schema = pa.schema([schema.field(c) for c in columns])
                yield pa.RecordBatch.from_pylist([], schema=schema)

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            fs, paths = expand(self.config.path, self.config.storage_options)
            if not paths:
                raise SourceError(f"no Parquet file matches {self.config.path!r}")
            yield from rechunk(
                (b for p in paths for b in self._file_batches(fs, p)), self.chunk_rows
            )
        except SourceError:
            raise
        except (OSError, pa.ArrowException, KeyError) as exc:
            first = (str(exc).splitlines() or [""])[0][:200]
            raise SourceError(f"Parquet source failed: {type(exc).__name__}: {first}") from None

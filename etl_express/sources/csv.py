"""CSV source: pyarrow's streaming CSV reader over fsspec files, every column read as text.

Columns are read as strings so that values survive exactly (no float guesses for amounts, no
leading zeros lost from INNs or phone numbers, no type flip between blocks); the field rules
cast them on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from etl_express.sources.base import SourceError
from etl_express.sources.chunking import rechunk
from etl_express.sources.files import expand

_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class CsvSourceConfig:
    path: str  # local path, glob or fsspec URL (s3://...)
    chunk_rows: int = 100_000
    delimiter: str = ","
    encoding: str = "utf8"
    null_values: tuple[str, ...] = ("",)
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)


class CsvSource:
    def __init__(self, config: CsvSourceConfig) -> None:
        self.config = config
        self.chunk_rows = config.chunk_rows

    def _column_names(self, fs: Any, path: str) -> list[str]:
        with fs.open(path, "rb") as handle:
            reader = pacsv.open_csv(
                handle,
                read_options=pacsv.ReadOptions(block_size=1 << 16, encoding=self.config.encoding),
                parse_options=pacsv.ParseOptions(delimiter=self.config.delimiter),
            )
            return list(reader.schema.names)

    def _file_batches(self, fs: Any, path: str) -> Iterator[pa.RecordBatch]:
        names = self._column_names(fs, path)
        convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=list(self.config.null_values),
            strings_can_be_null=True,
        )
        with fs.open(path, "rb") as handle:
            reader = pacsv.open_csv(
                handle,
                read_options=pacsv.ReadOptions(
                    block_size=_BLOCK_BYTES, encoding=self.config.encoding
                ),
                parse_options=pacsv.ParseOptions(delimiter=self.config.delimiter),
                convert_options=convert,
            )
            seen = False
            for batch in reader:
                seen = True
                yield batch
            if not seen:
                yield pa.RecordBatch.from_pylist([], schema=reader.schema)

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            fs, paths = expand(self.config.path, self.config.storage_options)
            if not paths:
                raise SourceError(f"no CSV file matches {self.config.path!r}")
            yield from rechunk(
                (b for p in paths for b in self._file_batches(fs, p)), self.chunk_rows
            )
        except SourceError:
            raise
        except (OSError, pa.ArrowException, UnicodeError) as exc:
            first = (str(exc).splitlines() or [""])[0][:200]
            raise SourceError(f"CSV source failed: {type(exc).__name__}: {first}") from None

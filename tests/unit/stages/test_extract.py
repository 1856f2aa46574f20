from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from etl_express.sources.base import SourceError
from etl_express.stages.errors import StageError
from etl_express.stages.extract import extract_to_staging
from etl_express.staging import StagingStore


class Batches:
    """A source of fixed batches that may break after `fail_after` of them."""

    chunk_rows = 2

    def __init__(self, count: int, fail_after: int | None = None) -> None:
        self.count, self.fail_after = count, fail_after

    def batches(self) -> Iterator[pa.RecordBatch]:
        for i in range(self.count):
            if i == self.fail_after:
                raise SourceError("connection lost")
            yield pa.RecordBatch.from_pydict({"a": [2 * i, 2 * i + 1]})


def test_chunks_are_written_in_order_while_the_next_is_read(tmp_path: Path) -> None:
    store = StagingStore(str(tmp_path))
    result = extract_to_staging(Batches(4), store, "run")
    assert (result.chunks, result.rows, result.chunk_rows) == (4, 8, [2, 2, 2, 2])
    assert [store.read("run", "extract", i).column("a").to_pylist() for i in range(4)] == [
        [0, 1], [2, 3], [4, 5], [6, 7]
    ]  # fmt: skip


def test_a_source_breaking_names_the_chunk_being_read(tmp_path: Path) -> None:
    store = StagingStore(str(tmp_path))
    with pytest.raises(StageError) as failed:
        extract_to_staging(Batches(4, fail_after=2), store, "run")
    assert (failed.value.stage, failed.value.chunk) == ("extract", 2)
    assert store.chunks("run", "extract") == [0, 1]  # written before the break, none after


def test_a_failed_write_names_its_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StagingStore(str(tmp_path))
    real = store.write

    def write(run_id: str, stage: str, chunk: int, data: Any) -> Any:
        if chunk == 1:
            raise OSError("disk full")
        return real(run_id, stage, chunk, data)

    monkeypatch.setattr(store, "write", write)
    with pytest.raises(StageError) as failed:
        extract_to_staging(Batches(4), store, "run")
    assert (failed.value.stage, failed.value.chunk) == ("extract", 1)

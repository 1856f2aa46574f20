from __future__ import annotations

import pyarrow as pa
import pytest

from etl_express.sources.chunking import rechunk


def _batches(*sizes: int) -> list[pa.RecordBatch]:
    out, start = [], 0
    for size in sizes:
        out.append(pa.record_batch({"n": list(range(start, start + size))}))
        start += size
    return out


def test_rechunk_cuts_exact_sizes_across_batch_boundaries() -> None:
    chunks = list(rechunk(_batches(3, 5, 4), 5))
    assert [c.num_rows for c in chunks] == [5, 5, 2]
    assert [v for c in chunks for v in c.column(0).to_pylist()] == list(range(12))


def test_rechunk_exact_multiple_has_no_trailing_empty_chunk() -> None:
    assert [c.num_rows for c in rechunk(_batches(4, 6), 5)] == [5, 5]


def test_rechunk_empty_input_keeps_schema_as_one_empty_chunk() -> None:
    empty = pa.RecordBatch.from_pylist([], schema=pa.schema([("a", pa.string())]))
    chunks = list(rechunk([empty], 10))
    assert len(chunks) == 1 and chunks[0].num_rows == 0
    assert chunks[0].schema.names == ["a"]


def test_rechunk_no_batches_at_all_yields_nothing() -> None:
    assert list(rechunk([], 10)) == []


def test_rechunk_rejects_zero() -> None:
    with pytest.raises(ValueError):
        list(rechunk(_batches(1), 0))

"""Re-cut a stream of record batches into chunks of exactly `rows` rows (the last may be short).

Drivers choose their own batch sizes (ADBC by bytes, CSV readers by block); stage chunks must
be a fixed number of rows so that the Airflow grid and the staging keys are predictable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa


def rechunk(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    if rows < 1:
        raise ValueError("chunk size must be at least one row")
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    emitted = False
    batch: pa.RecordBatch | None = None
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(rows - pending_rows, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            pending_rows += take
            offset += take
            if pending_rows == rows:
                yield pa.concat_batches(pending)
                pending, pending_rows, emitted = [], 0, True
    if pending_rows:
        yield pa.concat_batches(pending)
    elif not emitted and batch is not None:
        # An empty result is still one (empty) chunk: the outbox needs its schema.
        yield batch.slice(0, 0)

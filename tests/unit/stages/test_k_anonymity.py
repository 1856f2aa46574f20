from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl_express.stages.k_anonymity import from_group_counts
from etl_express.stages.transform import StagedChunks


def _staged(tmp_path: Path, *tables: pa.Table) -> StagedChunks:
    paths = []
    for i, table in enumerate(tables):
        path = tmp_path / f"chunk-{i:05d}.parquet"
        pq.write_table(table, path)
        paths.append(str(path))
    return StagedChunks(tuple(paths))


def test_counts_of_all_chunks_are_summed_per_group(tmp_path: Path) -> None:
    first = pa.table({"city": ["a", "b", None], "year": [1, 1, 2], "n": [3, 1, 2]})
    # a column null in a whole chunk is typed null there; nulls are one group
    second = pa.table({"city": ["a", "c"], "year": pa.nulls(2, pa.null()), "n": [1, 1]})
    third = pa.table({"city": ["b"], "year": [1], "n": [4]})
    k = from_group_counts(_staged(tmp_path, first, second, third), ["city", "year"], 64)
    # groups: (a,1)=3 (b,1)=5 (None,2)=2 (a,None)=1 (c,None)=1 -> 12 rows
    assert k == {"k": 1, "unique_rows": 2, "unique_share": round(2 / 12, 6), "groups": 5}


def test_no_rows_has_no_k(tmp_path: Path) -> None:
    empty = pa.table({"city": pa.array([], pa.string()), "n": pa.array([], pa.uint32())})
    assert from_group_counts(_staged(tmp_path, empty), ["city"], 64) == {
        "k": None, "unique_rows": 0, "unique_share": 0.0, "groups": 0
    }  # fmt: skip

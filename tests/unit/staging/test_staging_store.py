from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl_express.staging import StagingStore, safe_key

RUN = "manual__2026-01-01T00:00:00+00:00"


def test_write_read_overwrite_and_list(tmp_path: Path) -> None:
    store = StagingStore(str(tmp_path))
    store.write(RUN, "extract", 1, pa.table({"a": [1, 2]}))
    ref = store.write(RUN, "extract", 0, pa.table({"a": ["ж"]}))
    assert ref.rows == 1
    store.write(RUN, "extract", 1, pa.table({"a": [3]}))  # a re-run chunk replaces the old one
    assert store.read(RUN, "extract", 1).column("a").to_pylist() == [3]
    assert store.chunks(RUN, "extract") == [0, 1]
    # no temporary files survive a write
    assert all(not p.name.startswith(".tmp") for p in tmp_path.rglob("*"))


def test_json_stats_and_cleanup(tmp_path: Path) -> None:
    store = StagingStore(str(tmp_path))
    store.write_json(RUN, "load", 2, {"rows_out": 5})
    assert store.read_json(RUN, "load", 2) == {"rows_out": 5}
    assert store.chunks(RUN, "load", kind="json") == [2]
    assert store.chunks(RUN, "load") == []
    store.cleanup(RUN)
    store.cleanup(RUN)  # idempotent
    assert list(tmp_path.iterdir()) == []


def test_remove_stage_keeps_other_stages(tmp_path: Path) -> None:
    store = StagingStore(str(tmp_path))
    store.write(RUN, "extract", 0, pa.table({"a": [1]}))
    store.write(RUN, "transform", 0, pa.table({"a": [1]}))
    store.remove_stage(RUN, "extract")
    assert store.chunks(RUN, "extract") == [] and store.chunks(RUN, "transform") == [0]


def test_safe_key_is_path_safe_and_distinguishes_ids() -> None:
    a, b = safe_key("run:1+x"), safe_key("run:1_x")
    assert "/" not in a and ":" not in a and a != b
    assert safe_key("plain-run_1") == "plain-run_1"
    assert safe_key("..") != ".."


def _codec(path: str) -> str:
    return str(pq.ParquetFile(path).metadata.row_group(0).column(0).compression)


def test_compression_defaults_to_lz4_locally_and_can_be_chosen(tmp_path: Path) -> None:
    table = pa.table({"a": list(range(1000)), "b": ["x" * 20] * 1000})
    local = StagingStore(str(tmp_path / "a"))
    local.write("run", "s", 0, table)
    assert _codec(local.chunk_path("run", "s", 0)) == "LZ4"
    plain = StagingStore(str(tmp_path / "b"), compression="none")
    plain.write("run", "s", 0, table)
    assert _codec(plain.chunk_path("run", "s", 0)) == "UNCOMPRESSED"
    assert plain.read("run", "s", 0).equals(table)
    with pytest.raises(ValueError, match="staging compression must be one of"):
        StagingStore(str(tmp_path / "c"), compression="gzip")


def test_compression_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from etl_express.settings import reset_settings_cache

    monkeypatch.setenv("ETLX_STAGING_DIR", str(tmp_path))
    monkeypatch.setenv("ETLX_STAGING_COMPRESSION", "zstd")
    monkeypatch.delenv("ETLX_STAGING_URL", raising=False)
    reset_settings_cache()
    try:
        assert StagingStore.from_settings().compression == "zstd"
    finally:
        monkeypatch.delenv("ETLX_STAGING_COMPRESSION")
        reset_settings_cache()

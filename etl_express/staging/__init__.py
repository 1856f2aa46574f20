"""Staging store: Parquet chunks between stage tasks, keyed by run, stage and chunk."""

from __future__ import annotations

from etl_express.staging.store import ChunkRef, StagingStore, safe_key

__all__ = ["ChunkRef", "StagingStore", "safe_key"]

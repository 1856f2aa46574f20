"""Shared helpers for file sources: local paths or any fsspec URL (s3://bucket/prefix/...)."""

from __future__ import annotations

from typing import Any

import fsspec


def expand(url: str, storage_options: dict[str, Any] | None) -> tuple[Any, list[str]]:
    """The filesystem and the sorted files a path or glob names (sorted: stable chunk order)."""
    fs, _, paths = fsspec.get_fs_token_paths(url, storage_options=storage_options or {})
    if not paths:
        return fs, []
    if len(paths) == 1 and fs.isdir(paths[0]):
        paths = [p for p in fs.find(paths[0]) if not p.rsplit("/", 1)[-1].startswith((".", "_"))]
    return fs, sorted(paths)

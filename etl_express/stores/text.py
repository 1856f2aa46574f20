"""Small text helpers for queries."""

from __future__ import annotations


def contains_pattern(text: str) -> str:
    """An ILIKE pattern (escape character backslash) matching `text` anywhere, literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

"""Privacy report of one batch: what was done to each column, and how re-identifiable it is.

k-anonymity over the declared quasi-identifiers is the size of the smallest group of rows
sharing the same combination of their (anonymized) values; `unique_share` is the share of
rows alone in their group. Nulls count as a value (a null birth year groups with other nulls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from etl_express.anonymize.gate import GateResult
from etl_express.errors import FieldError, ValidationFailed


def k_anonymity(frame: pl.DataFrame, quasi_identifiers: Sequence[str]) -> dict[str, Any]:
    """{"k", "unique_rows", "unique_share", "groups"} over the quasi-identifiers."""
    missing = [c for c in quasi_identifiers if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            [FieldError("$.quasi_identifiers", f"not in the anonymized data: {', '.join(missing)}")]
        )
    if not quasi_identifiers or frame.height == 0:
        return {"k": None, "unique_rows": 0, "unique_share": 0.0, "groups": 0}
    sizes = frame.group_by(list(quasi_identifiers)).len()["len"]
    unique_rows = int((sizes == 1).sum())
    return {
        "k": int(sizes.min()),  # type: ignore[arg-type]
        "unique_rows": unique_rows,
        "unique_share": round(unique_rows / frame.height, 6),
        "groups": sizes.len(),
    }


def privacy_report(
    frame: pl.DataFrame,
    stats: dict[str, Any],
    quasi_identifiers: Sequence[str],
    gate: GateResult | None = None,
) -> dict[str, Any]:
    """The JSON stored with the batch and shown in the outbox UI."""
    return {
        "rows": stats.get("rows", frame.height),
        "key": stats.get("key"),
        "columns": stats.get("columns", {}),
        "entities": stats.get("entities", {}),
        "quasi_identifiers": list(quasi_identifiers),
        "k_anonymity": k_anonymity(frame, quasi_identifiers),
        "gate": gate.as_dict() if gate is not None else None,
    }

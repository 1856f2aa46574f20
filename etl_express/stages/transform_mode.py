"""Can a transformation run chunk by chunk, or does it need all chunks at once?

Row-wise queries (projections, filters, scalar functions over one input) give the same result
chunk by chunk, which keeps memory bounded and lets Airflow map them. Anything that relates
rows to each other (aggregates, windows, DISTINCT, ORDER BY, LIMIT, joins, set operations)
needs the whole input; it then runs once over all staged chunks, which DuckDB still streams
from Parquet rather than loading.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

TransformMode = Literal["per_chunk", "whole"]


def transform_mode(sql: str) -> TransformMode:
    return "per_chunk" if _row_wise_tables(sql) is not None else "whole"


def chunkwise_input(sql: str, inputs: Collection[str]) -> str | None:
    """The one input a row-wise transformation reads, when it can run chunk by chunk over
    it; None otherwise (also for a query that reads no input at all, whose rows would be
    repeated once per chunk)."""
    tables = _row_wise_tables(sql)
    if tables is None or len(tables) != 1 or len(inputs) != 1:
        return None
    (table,) = tables
    return table if table in inputs else None


def streaming_obstacle(
    inputs: Sequence[str],
    transformation: Mapping[str, Any] | None,
    dedupe: Mapping[str, Any] | None,
) -> str | None:
    """Why a task with these extraction `inputs`, transformation spec and field-rules dedupe
    cannot run streamed (`stages.streamed`), or None when it can."""
    if len(inputs) != 1:
        return "it has several extractions, which a transformation combines"
    if transformation is not None:
        if transformation.get("language", "sql") != "sql":
            return "its transformation is Python code, which reads every row at once"
        if chunkwise_input(transformation.get("sql") or "", inputs) is None:
            return "its transformation relates rows to each other (not row-wise)"
    if dedupe and dedupe.get("keys") and dedupe.get("keep") == "last":
        return "its dedupe keeps the last row of a key, known only once every row is read"
    return None


def _row_wise_tables(sql: str) -> set[str] | None:
    """Tables a row-wise query reads; None when it relates rows to each other."""
    import sqlglot
    from sqlglot import expressions as exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None  # let DuckDB report the error with its own message
    relating = (
        exp.AggFunc,
        exp.Window,
        exp.Order,
        exp.Distinct,
        exp.Limit,
        exp.Join,
        exp.Group,
        exp.SetOperation,
        exp.Subquery,
        exp.With,
    )
    if tree is None or any(tree.find(kind) for kind in relating):
        return None
    tables = {t.name for t in tree.find_all(exp.Table)}
    return tables if len(tables) <= 1 else None

"""Can a transformation run chunk by chunk, or does it need all chunks at once?

Row-wise queries (projections, filters, scalar functions over one input) give the same result
chunk by chunk, which keeps memory bounded and lets Airflow map them. Anything that relates
rows to each other (aggregates, windows, DISTINCT, ORDER BY, LIMIT, joins, set operations)
needs the whole input; it then runs once over all staged chunks, which DuckDB still streams
from Parquet rather than loading.
"""

from __future__ import annotations

from typing import Literal

TransformMode = Literal["per_chunk", "whole"]


def transform_mode(sql: str) -> TransformMode:
    import sqlglot
    from sqlglot import expressions as exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return "whole"  # let DuckDB report the error with its own message
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
    if any(tree.find(kind) for kind in relating):
        return "whole"
    tables = {t.name for t in tree.find_all(exp.Table)}
    return "per_chunk" if len(tables) <= 1 else "whole"

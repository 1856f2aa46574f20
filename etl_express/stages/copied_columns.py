"""Columns a row-wise query copies unchanged from its input, kept out of DuckDB.

`SELECT id, full_name, ..., salary >= 100000 AS high_earner FROM source` copies eleven columns
and computes one; DuckDB taking the copied strings into its vectors and giving them back made
most of the 32-36 ms of CPU the query took per 100k bench rows. So a column that the query
only copies goes to DuckDB as nulls of its type, which leaves the result's names and types as
they were, and is put back from the input afterwards, cast to the type DuckDB gave it: 17-19
ms (the nulls still cost DuckDB 7).

Only what is sure to give the same result is done so: a SELECT list over one input with no
other clause; a copied column is one named bare (`id`, `s.id`, `id AS key`, or `*` without
modifiers) and referenced by no computed item; its type is one DuckDB hands back unchanged
(integers, floats, booleans, text, dates, microsecond timestamps, 128-bit decimals). A query
with anything else, or a computed item that names a select alias (DuckDB lets a later item
use an earlier alias), goes through DuckDB whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class CopyPlan:
    """`copies`: output position -> the input column it copies; `nulled`: the input columns
    DuckDB gets as nulls (copied, and read by no computed item)."""

    copies: tuple[tuple[int, str], ...]
    nulled: frozenset[str]


def _unchanged_by_duckdb(dtype: pa.DataType) -> bool:
    return (
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_boolean(dtype)
        or dtype in (pa.string(), pa.large_string(), pa.string_view(), pa.date32())
        or (pa.types.is_timestamp(dtype) and dtype.unit == "us")
        or pa.types.is_decimal128(dtype)
    )


@lru_cache(maxsize=64)  # every chunk of a run asks the same
def copy_plan(sql: str, name: str, schema: pa.Schema) -> CopyPlan | None:
    """The copied columns of `sql` over input `name` of `schema`, or None when there are
    none to keep out of DuckDB or the query is not a plain projection."""
    projection = _projection(sql, name)
    by_lower = {f.name.lower(): f.name for f in schema}
    if projection is None or len(by_lower) < len(schema):
        return None  # DuckDB matches names without case: two would be ambiguous
    items, qualifiers = projection
    found = _copies_and_reads(items, qualifiers, by_lower, schema)
    if found is None:
        return None
    copies, read = found
    nulled = frozenset(
        column
        for _, column in copies
        if column not in read and _unchanged_by_duckdb(schema.field(column).type)
    )
    if not nulled:
        return None
    return CopyPlan(tuple((p, c) for p, c in copies if c in nulled), nulled)


def _projection(sql: str, name: str) -> tuple[list[Any], set[str]] | None:
    """The select items of `sql` and the names its columns may be qualified with, when it is
    a SELECT list over input `name` and nothing else."""
    import sqlglot
    from sqlglot import expressions as exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(tree, exp.Select):
        return None
    if {k for k, v in tree.args.items() if v} != {"expressions", "from_"}:
        return None
    source = tree.args["from_"].this
    if not isinstance(source, exp.Table) or source.name != name or source.db or source.catalog:
        return None
    return list(tree.expressions), {"", name.lower(), source.alias_or_name.lower()}


def _copies_and_reads(
    items: list[Any], qualifiers: set[str], by_lower: dict[str, str], schema: pa.Schema
) -> tuple[list[tuple[int, str]], set[str]] | None:
    """(output position, input column) of every item naming a column bare, and the input
    columns the other items read; None when an item reads columns it does not name or names
    a select alias."""
    from sqlglot import expressions as exp

    copies: list[tuple[int, str]] = []
    read: set[str] = set()
    aliases = {item.alias.lower() for item in items if item.alias}
    position = 0
    for item in items:
        if isinstance(item, exp.Star):
            if any(item.args.values()):
                return None  # EXCLUDE, REPLACE, RENAME
            copies += [(position + i, f.name) for i, f in enumerate(schema)]
            position += len(schema)
            continue
        named = item.this if isinstance(item, exp.Alias) else item
        if (
            isinstance(named, exp.Column)
            and isinstance(named.this, exp.Identifier)
            and named.table.lower() in qualifiers
            and named.name.lower() in by_lower
        ):
            copies.append((position, by_lower[named.name.lower()]))
            position += 1
            continue
        if item.find(exp.Star) or item.find(exp.Columns):
            return None
        for ref in item.find_all(exp.Column):
            if ref.name.lower() in aliases or ref.name.lower() not in by_lower:
                return None
            read.add(by_lower[ref.name.lower()])
        position += 1
    return copies, read


def without_copied(table: pa.Table, plan: CopyPlan) -> pa.Table:
    """`table` with the plan's nulled columns as nulls of their type (same schema)."""
    columns = [
        pa.nulls(table.num_rows, f.type) if f.name in plan.nulled else table.column(i)
        for i, f in enumerate(table.schema)
    ]
    return pa.Table.from_arrays(columns, schema=table.schema)


def with_copied(result: pa.Table, table: pa.Table, plan: CopyPlan) -> pa.Table:
    """DuckDB's `result` with the copied columns put back from the input `table`."""
    columns = list(result.columns)
    for position, column in plan.copies:
        columns[position] = table.column(column).cast(result.schema.field(position).type)
    return pa.Table.from_arrays(columns, schema=result.schema)

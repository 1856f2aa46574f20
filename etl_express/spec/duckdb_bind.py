"""Bind a DuckDB query against empty tables of known schemas to learn its output columns."""

from __future__ import annotations

import re

from etl_express.spec.common import ColumnSchema


class BindError(Exception):
    """DuckDB refused the query (unknown table or column, type mismatch); message is DuckDB's."""


_ARROW_TO_DUCKDB = {
    "bool": "BOOLEAN",
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "string": "VARCHAR",
    "json": "VARCHAR",
    "binary": "BLOB",
    "date32": "DATE",
    "time64[us]": "TIME",
    "duration[us]": "INTERVAL",
    "null": "VARCHAR",
}

_DUCKDB_TO_ARROW = {
    "BOOLEAN": "bool",
    "TINYINT": "int8",
    "SMALLINT": "int16",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "HUGEINT": "decimal128(38,0)",
    "UTINYINT": "uint8",
    "USMALLINT": "uint16",
    "UINTEGER": "uint32",
    "UBIGINT": "uint64",
    "FLOAT": "float32",
    "DOUBLE": "float64",
    "VARCHAR": "string",
    "BLOB": "binary",
    "DATE": "date32",
    "TIME": "time64[us]",
    "INTERVAL": "duration[us]",
    "TIMESTAMP": "timestamp[us]",
    "TIMESTAMP WITH TIME ZONE": "timestamp[us, tz=UTC]",
    "UUID": "string",
    "JSON": "json",
}


def duckdb_type(arrow: str) -> str:
    if arrow in _ARROW_TO_DUCKDB:
        return _ARROW_TO_DUCKDB[arrow]
    decimal = re.match(r"^decimal128\((\d+),\s?(\d+)\)$", arrow)
    if decimal:
        return f"DECIMAL({decimal.group(1)},{decimal.group(2)})"
    if arrow.startswith("timestamp["):
        return "TIMESTAMPTZ" if "tz=" in arrow else "TIMESTAMP"
    return "VARCHAR"


def arrow_type(duck: str) -> str:
    duck = duck.upper()
    if duck in _DUCKDB_TO_ARROW:
        return _DUCKDB_TO_ARROW[duck]
    decimal = re.match(r"^DECIMAL\((\d+),\s?(\d+)\)$", duck)
    if decimal:
        return f"decimal128({decimal.group(1)},{decimal.group(2)})"
    if duck.startswith("TIMESTAMP"):
        return "timestamp[us, tz=UTC]" if "TIME ZONE" in duck else "timestamp[us]"
    return "string"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_ddl(column: ColumnSchema) -> str:
    null = "" if column.nullable else " NOT NULL"
    return f"{_quote(column.name)} {duckdb_type(column.type)}{null}"


def bind_query(sql: str, inputs: dict[str, list[ColumnSchema]]) -> list[ColumnSchema]:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        for table, columns in inputs.items():
            cols = ", ".join(_column_ddl(c) for c in columns)
            con.execute(f"CREATE TABLE {_quote(table)} ({cols or 'dummy__ INTEGER'})")
        try:
            rows = con.execute(f"DESCRIBE {sql}").fetchall()
        except duckdb.Error as err:
            raise BindError(str(err).strip().splitlines()[0]) from None
    finally:
        con.close()
    return [
        ColumnSchema(name=str(name), type=arrow_type(str(dtype)), nullable=str(null) != "NO")
        for name, dtype, null, *_ in rows
    ]

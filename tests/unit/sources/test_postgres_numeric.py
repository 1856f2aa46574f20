from __future__ import annotations

import pyarrow as pa

from etl_express.sources.postgres import _with_numeric_as_text, normalize_batch, numeric_as_text


def _numeric(name: str, typmod: int) -> pa.Field:
    meta = {b"POSTGRESQL:type": b"numeric", b"POSTGRESQL:typmod": str(typmod).encode()}
    return pa.field(name, pa.string(), metadata=meta)


def _typmod(precision: int, scale: int) -> int:
    return ((precision << 16) | scale) + 4


def test_numeric_columns_are_selected_as_text_with_their_decimal_types() -> None:
    schema = pa.schema([pa.field("id", pa.int64()), _numeric('pr"ice', _typmod(12, 2))])
    query, decimals = numeric_as_text("SELECT * FROM t;", schema)
    assert (
        query
        == 'SELECT "id", "pr""ice"::text AS "pr""ice" FROM (\nSELECT * FROM t\n) AS etlx_numeric'
    )
    assert decimals == {'pr"ice': pa.decimal128(12, 2)}


def test_query_stays_as_written_without_numerics_or_with_repeated_names() -> None:
    plain = pa.schema([pa.field("id", pa.int64())])
    assert numeric_as_text("SELECT id FROM t", plain) == ("SELECT id FROM t", {})
    twice = pa.schema([_numeric("a", -1), _numeric("a", -1)])
    assert numeric_as_text("SELECT a, a FROM t", twice) == ("SELECT a, a FROM t", {})


def test_text_columns_named_as_decimals_are_cast() -> None:
    batch = pa.record_batch({"a": ["1.50", None], "b": ["x", "y"]})
    out = normalize_batch(batch, {"a": pa.decimal128(12, 2)})
    assert out.schema.field("a").type == pa.decimal128(12, 2)
    assert out.schema.field("b").type == pa.string()
    assert out.column("a").to_pylist()[1] is None
    assert str(out.column("a")[0].as_py()) == "1.50"


class _Cursor:
    """Prepares the original query only, as if wrapping it made it invalid."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema

    def adbc_execute_schema(self, query: str) -> pa.Schema:
        if "etlx_numeric" in query:
            raise LookupError("syntax error")
        return self.schema


def test_a_query_that_cannot_be_wrapped_runs_as_written() -> None:
    cursor = _Cursor(pa.schema([_numeric("a", _typmod(5, 1))]))
    assert _with_numeric_as_text(cursor, "SELECT a FROM t", LookupError) == ("SELECT a FROM t", {})

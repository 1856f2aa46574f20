"""Type mapping of the describers, without a server (the servers: tests/integration/spec)."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
import pytest

from etl_express.spec.common import check_type_name
from etl_express.spec.describe import _arrow_name, _pg_type, connection_url


@pytest.mark.parametrize(
    ("typname", "category", "typmod", "element", "expected"),
    [
        ("int4", "N", -1, None, "int32"),
        ("numeric", "N", ((12 << 16) | 2) + 4, None, "decimal128(12,2)"),
        ("numeric", "N", -1, None, "string"),
        ("timestamptz", "D", -1, None, "timestamp[us, tz=UTC]"),
        ("_int8", "A", -1, "int64", "list<int64>"),
        ("mood", "E", -1, None, "string"),
    ],
)
def test_postgres_types(
    typname: str, category: str, typmod: int, element: str | None, expected: str
) -> None:
    assert _pg_type(typname, category, typmod, element) == expected
    check_type_name(expected)


@pytest.mark.parametrize(
    ("arrow", "expected"),
    [
        (pa.large_string(), "string"),
        (pa.date32(), "date32"),
        (pa.decimal128(38, 10), "decimal128(38,10)"),
        (pa.timestamp("us", tz="Europe/Moscow"), "timestamp[us, tz=UTC]"),
        (pa.float64(), "float64"),
        (pa.int16(), "int16"),
    ],
)
def test_arrow_types(arrow: pa.DataType, expected: str) -> None:
    assert _arrow_name(arrow) == expected


def test_connection_url_quotes_secrets() -> None:
    conn = SimpleNamespace(
        login="etl user", password="p@ss:w/rd", host="db", port=5433, schema="crm"
    )
    assert connection_url("postgres", conn) == "postgresql://etl%20user:p%40ss%3Aw%2Frd@db:5433/crm"

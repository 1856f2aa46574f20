from __future__ import annotations

import pyarrow as pa
import pytest

from etl_express.stages.errors import SafeMessageError
from etl_express.stages.outbox import columns_of, loading_name, pg_type, table_name


def test_pg_types_keep_precision_and_zones() -> None:
    assert pg_type(pa.decimal128(12, 2)) == "numeric(12, 2)"
    assert pg_type(pa.timestamp("us", "UTC")) == "timestamptz"
    assert pg_type(pa.timestamp("us")) == "timestamp"
    assert pg_type(pa.large_string()) == "text"
    assert pg_type(pa.date32()) == "date"
    assert pg_type(pa.dictionary(pa.int32(), pa.string())) == "text"
    assert pg_type(pa.null()) == "text"


def test_times_and_intervals_of_every_unit_have_a_column_type() -> None:
    # polars writes a Time as time64[ns]; now() - created_at in polars is a Duration
    for unit in ("s", "ms"):
        assert pg_type(pa.time32(unit)) == "time"
    for unit in ("us", "ns"):
        assert pg_type(pa.time64(unit)) == "time"
    for unit in ("s", "ms", "us", "ns"):
        assert pg_type(pa.duration(unit)) == "interval"
    assert pg_type(pa.month_day_nano_interval()) == "interval"


def test_unsupported_type_is_a_safe_error() -> None:
    with pytest.raises(SafeMessageError, match="cannot be stored"):
        pg_type(pa.list_(pa.int64()))


def test_names() -> None:
    assert table_name(7) == "batch_7" and loading_name(7) == "_loading_7"
    schema = pa.schema([pa.field("a", pa.int64(), nullable=False)])
    assert columns_of(schema) == [{"name": "a", "type": "bigint", "nullable": False}]

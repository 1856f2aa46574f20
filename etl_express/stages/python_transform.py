"""Python transformations: admin-written `def transform(inputs)` over polars frames.

Only admins may save one and only when the server allows it (ETLX_ALLOW_PYTHON_TRANSFORMS);
the stage checks the setting again at run time, so switching it off stops existing tasks too.
Inputs arrive as polars LazyFrames scanning the staged Parquet, so a transform written with
lazy operations streams; the result (DataFrame or LazyFrame) is collected with polars'
streaming engine and re-cut into chunks by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl
import pyarrow as pa

from etl_express.stages.errors import SafeMessageError


def load_transform(code: str) -> Any:
    namespace: dict[str, Any] = {"pl": pl, "__name__": "etlx_transformation"}
    exec(compile(code, "<transformation>", "exec"), namespace)  # admin-only code, see above
    function = namespace.get("transform")
    if not callable(function):
        raise SafeMessageError("the transformation code defines no function transform(inputs)")
    return function


def run_python_transform(
    code: str, inputs: Mapping[str, pl.LazyFrame], batch_rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    result = load_transform(code)(dict(inputs))
    if isinstance(result, pl.LazyFrame):
        result = result.collect(engine="streaming")
    if not isinstance(result, pl.DataFrame):
        raise SafeMessageError(
            f"transform(inputs) returned {type(result).__name__}; "
            "return a polars DataFrame or LazyFrame"
        )
    yield from result.to_arrow().to_batches(max_chunksize=batch_rows)

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from etl_express.stages import runner
from etl_express.stages.errors import SafeMessageError, StageError
from etl_express.stages.python_transform import run_python_transform
from etl_express.staging.store import StagingStore

JOIN = """
def transform(inputs):
    customers = inputs["customers"]
    orders = inputs["orders"].group_by("customer_id").agg(pl.col("amount").sum())
    return customers.join(orders, left_on="id", right_on="customer_id", how="left").sort("id")
"""


def _frames() -> dict[str, pl.LazyFrame]:
    return {
        "customers": pl.LazyFrame({"id": [1, 2, 3], "name": ["Анна", "Bob", None]}),
        "orders": pl.LazyFrame({"customer_id": [1, 1, 3], "amount": [10, 5, 7]}),
    }


def test_lazy_result_joins_inputs() -> None:
    table = pa.Table.from_batches(list(run_python_transform(JOIN, _frames())))
    assert table.to_pydict() == {"id": [1, 2, 3], "name": ["Анна", "Bob", None],
                                 "amount": [15, None, 7]}  # fmt: skip


def test_eager_result_and_empty_input() -> None:
    code = "def transform(inputs):\n    return inputs['customers'].collect().head(0)\n"
    batches = list(run_python_transform(code, _frames()))
    assert sum(b.num_rows for b in batches) == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("x = 1\n", "defines no function transform"),
        ("def transform(inputs):\n    return 42\n", "returned int"),
    ],
)
def test_bad_code_is_a_clear_error(code: str, message: str) -> None:
    with pytest.raises(SafeMessageError, match=message):
        list(run_python_transform(code, _frames()))


def test_runner_reads_staged_chunks_and_rechunks(tmp_path: Path) -> None:
    ctx = runner.RunContext(StagingStore(str(tmp_path)), "run-1")
    ctx.write("field_rules.customers", 0, pl.DataFrame({"id": [1, 2], "name": ["a", "b"]}))
    ctx.write("field_rules.customers", 1, pl.DataFrame({"id": [3], "name": ["c"]}))
    ctx.write("field_rules.orders", 0, pl.DataFrame({"customer_id": [1, 3], "amount": [2, 4]}))
    inputs = {"customers": "field_rules.customers", "orders": "field_rules.orders"}
    count = runner.transform_python(ctx, JOIN, inputs, chunk_rows=2)
    assert count == 2
    out = pl.concat([ctx.frame(runner.TRANSFORM, i) for i in range(count)])
    assert out.sort("id").to_dict(as_series=False) == {
        "id": [1, 2, 3], "name": ["a", "b", "c"], "amount": [2, None, 4],
    }  # fmt: skip


def test_user_code_errors_name_the_stage_without_details(tmp_path: Path) -> None:
    ctx = runner.RunContext(StagingStore(str(tmp_path)), "run-2")
    ctx.write("field_rules.customers", 0, pl.DataFrame({"id": [1]}))
    code = "def transform(inputs):\n    raise ValueError('secret row value')\n"
    with pytest.raises(StageError) as failed:
        runner.transform_python(ctx, code, {"customers": "field_rules.customers"}, 10)
    assert "transform" in str(failed.value) and "secret row value" not in str(failed.value)


def test_stage_refuses_python_when_the_server_disallows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from etl_express.settings import reset_settings_cache
    from etl_express.stages.entry import _python_code

    spec = {"language": "python", "code": JOIN}
    monkeypatch.setenv("ETLX_ALLOW_PYTHON_TRANSFORMS", "false")
    reset_settings_cache()
    with pytest.raises(SafeMessageError, match="ETLX_ALLOW_PYTHON_TRANSFORMS"):
        _python_code(spec)
    monkeypatch.setenv("ETLX_ALLOW_PYTHON_TRANSFORMS", "true")
    reset_settings_cache()
    assert _python_code(spec) == JOIN
    reset_settings_cache()

from __future__ import annotations

import polars as pl
import pytest

from etl_express.errors import ConfigError
from etl_express.stages.errors import StageError, stage_errors


def test_library_errors_lose_their_text_and_cause() -> None:
    with pytest.raises(StageError) as info, stage_errors("field_rules", 3):
        pl.Series(["SECRET-123"]).cast(pl.Int64, strict=True)
    error = info.value
    assert (error.stage, error.chunk) == ("field_rules", 3)
    assert "SECRET" not in str(error) and "InvalidOperationError" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    assert error.as_dict()["chunk"] == 3


def test_our_errors_keep_their_safe_message() -> None:
    with (
        pytest.raises(StageError, match="stage transform: set ETLX_X"),
        stage_errors("transform", None),
    ):
        raise ConfigError("set ETLX_X")

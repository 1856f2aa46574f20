"""Turn Python values into what a JSONB column can hold (dates, decimals, enums, models)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def _scalar(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return _scalar(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID | PurePath):
        return str(value)
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump(mode="json"))
    return value


def to_jsonable(value: Any) -> Any:
    """A copy of `value` made of dict/list/str/int/float/bool/None only."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return _scalar(value)

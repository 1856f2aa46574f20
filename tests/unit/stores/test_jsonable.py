from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from pathlib import Path

from pydantic import BaseModel

from etl_express.stores.jsonable import to_jsonable


class Color(enum.Enum):
    red = "r"


class Model(BaseModel):
    when: dt.date
    n: int


def test_values_become_json() -> None:
    value = {
        1: (dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), decimal.Decimal("1.50")),
        "set": {Color.red},
        "path": Path("/tmp/x"),
        "id": uuid.UUID(int=1),
        "model": Model(when=dt.date(2026, 5, 6), n=3),
        "none": None,
    }
    assert to_jsonable(value) == {
        "1": ["2026-01-02T03:04:00+00:00", "1.50"],
        "set": ["r"],
        "path": "/tmp/x",
        "id": "00000000-0000-0000-0000-000000000001",
        "model": {"when": "2026-05-06", "n": 3},
        "none": None,
    }

"""Build `gx_catalog.json` from the installed Great Expectations (run by hand after an upgrade).

    python -m etl_express.spec.gx_catalog_build            # rewrite the committed catalogue
    python -m etl_express.spec.gx_catalog_build --check    # exit 1 when it differs

Saving a field-rules script checks expectation names and kwargs against this file, so the API
never imports GX (4-7 s). A unit test rebuilds it from GX and compares, so it cannot drift.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import typing
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("gx_catalog.json")

# Fields every GX expectation has that are GX bookkeeping, not checks; ETL-Express has its own
# severity, and rows/results are reported by our stage.
BOOKKEEPING = frozenset(
    {
        "id",
        "meta",
        "notes",
        "rendered_content",
        "windows",
        "batch_id",
        "result_format",
        "catch_exceptions",
        "severity",
        "description",
    }
)


def _json_types(annotation: Any) -> list[str]:
    """Coarse JSON types a kwarg accepts ("any" when GX's type has no JSON spelling)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        found: set[str] = set()
        for arg in typing.get_args(annotation):
            found.update(_json_types(arg))
        return ["any"] if "any" in found else sorted(found)
    if origin is typing.Literal:
        return ["string"]
    if origin in (list, tuple, set, frozenset) or _is_sequence(annotation, origin):
        return ["array"]
    if origin is dict or annotation is dict:
        return ["object"]
    return _scalar_type(annotation)


def _is_sequence(annotation: Any, origin: Any) -> bool:
    import collections.abc as abc

    return origin in (abc.Sequence, abc.Iterable, abc.Collection)


def _scalar_type(annotation: Any) -> list[str]:
    if annotation is type(None):
        return ["null"]
    if not isinstance(annotation, type):
        return ["any"]
    if issubclass(annotation, bool):
        return ["boolean"]
    if issubclass(annotation, int | float):
        return ["number"]
    if issubclass(annotation, str):
        return ["string"]
    if issubclass(annotation, dt.date):
        return ["string"]
    return ["any"]


def _literal_values(annotation: Any) -> list[str] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    if origin is typing.Union:
        for arg in typing.get_args(annotation):
            values = _literal_values(arg)
            if values is not None and type(None) in typing.get_args(annotation):
                return values
    return None


def _domain(fields: dict[str, Any]) -> str:
    if "column" in fields:
        return "column"
    if "column_A" in fields and "column_B" in fields:
        return "column_pair"
    if "column_list" in fields:
        return "multicolumn"
    if "unexpected_rows_query" in fields:
        return "query"
    return "table"


def _entry(cls: Any) -> dict[str, Any]:
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    fields = cls.__fields__
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        if name in BOOKKEEPING:
            continue
        entry: dict[str, Any] = {
            "required": bool(field.required),
            "types": _json_types(field.outer_type_),
        }
        values = _literal_values(field.outer_type_)
        if values is not None:
            entry["enum"] = values
        kwargs[field.alias or name] = entry
    row_level = issubclass(
        cls, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation
    )
    return {
        "class": cls.__name__,
        "domain": _domain(fields),
        "row_level": row_level,
        "kwargs": kwargs,
    }


def build() -> dict[str, Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.expectations import registry

    expectations = {
        name: _entry(cls) for name, cls in sorted(registry._registered_expectations.items())
    }
    return {"great_expectations": gx.__version__, "expectations": expectations}


def render(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render(build())
    if "--check" in argv:
        same = CATALOG_PATH.exists() and CATALOG_PATH.read_text(encoding="utf-8") == text
        print("gx_catalog.json is up to date" if same else "gx_catalog.json differs from GX")
        return 0 if same else 1
    CATALOG_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {CATALOG_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The committed GX catalogue is exactly what the installed Great Expectations reports."""

from __future__ import annotations

import json
import subprocess
import sys

from etl_express.spec.gx_catalog import catalog, kwarg_problems
from etl_express.spec.gx_catalog_build import CATALOG_PATH, build, render


def test_committed_catalogue_equals_installed_gx() -> None:
    fresh = build()
    assert fresh["great_expectations"] == catalog()["great_expectations"]
    assert render(fresh) == CATALOG_PATH.read_text(encoding="utf-8"), (
        "gx_catalog.json is stale: run `python -m etl_express.spec.gx_catalog_build`"
    )


def test_every_gx_expectation_is_known() -> None:
    from great_expectations.expectations import registry

    assert set(catalog()["expectations"]) == set(registry._registered_expectations)
    assert len(catalog()["expectations"]) >= 50


def test_catalogue_answers_kwargs_questions() -> None:
    ok = kwarg_problems("expect_column_values_to_be_between", {"min_value": 1}, {"column"})
    assert ok == []
    unknown = kwarg_problems("expect_column_values_to_be_between", {"minimum": 1}, {"column"})
    assert unknown and unknown[0][0] == "minimum"
    missing = kwarg_problems("expect_column_values_to_be_in_set", {}, {"column"})
    assert missing == [(None, "kwargs needs 'value_set' for expect_column_values_to_be_in_set")]


def test_saving_rules_does_not_import_gx() -> None:
    code = (
        "import sys; from etl_express.spec import parse_script; "
        "parse_script('field_rules', {'fields': {'a': {'validations': "
        "[{'expectation': 'expect_column_values_to_not_be_null'}]}}}); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('great_expectations'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout) == []

from __future__ import annotations

import copy

import pytest
from spec_world import demo_documents, make_world

from etl_express.errors import ValidationFailed
from etl_express.spec import ScriptKind, parse_script, parse_task
from etl_express.spec.transformation import TransformationSpec


def _task() -> dict:
    return copy.deepcopy(next(d for d in demo_documents() if d["kind"] == "task")["spec"])


def test_missing_scripts_are_listed_together_with_other_errors() -> None:
    payload = _task()
    del payload["scripts"]["field_rules"]
    payload["scripts"]["anonymization"] = None
    payload["retention_days"] = 0
    with pytest.raises(ValidationFailed) as failed:
        parse_task(payload)
    by_path = {e.path: e.message for e in failed.value.errors}
    message = "Missing scripts: field rules, anonymization — attach one of each before saving"
    assert by_path["$.scripts.field_rules"] == message
    assert by_path["$.scripts.anonymization"] == message
    assert "$.retention_days" in by_path
    assert len(failed.value.errors) == 3


def test_without_a_context_cross_checks_are_skipped() -> None:
    payload = _task()
    payload["quasi_identifiers"] = ["not_a_column"]
    assert parse_task(payload).quasi_identifiers == ["not_a_column"]


def test_slug_is_derived_from_the_name() -> None:
    payload = _task()
    del payload["slug"]
    payload["name"] = "Клиенты / Customers 2026!"
    assert parse_task(payload).slug == "customers_2026"


def test_field_rule_casts_change_the_types_the_transformation_binds() -> None:
    ctx = make_world()
    sql = "SELECT lower(id) AS id, city FROM customers"  # lower() needs text, not bigint
    ctx.scripts[("lower_ids", 1)] = (
        ScriptKind.transformation,
        {"inputs": [{"name": "customers"}], "sql": sql},
        None,
    )
    ctx.scripts[("cast_rules", 1)] = (
        ScriptKind.field_rules,
        {"fields": {"id": {"steps": [{"op": "cast", "to": "string"}]}}},
        None,
    )
    ctx.scripts[("anon_city", 1)] = (
        ScriptKind.anonymization,
        {"columns": {"city": {"operator": "redact"}}},
        None,
    )
    payload = _task()
    payload["scripts"]["transformation"] = {"name": "lower_ids", "version": 1}
    payload["scripts"]["anonymization"] = {"name": "anon_city", "version": 1}
    payload["quasi_identifiers"] = ["id"]
    with pytest.raises(ValidationFailed) as failed:
        parse_task(payload, ctx)  # demo field rules keep id a bigint: lower() does not bind
    assert [e.path for e in failed.value.errors] == ["$.scripts.transformation"]
    assert "lower" in failed.value.errors[0].message
    payload["scripts"]["field_rules"] = {"name": "cast_rules", "version": 1}
    assert parse_task(payload, ctx).scripts.transformation is not None


def test_python_transformation_for_an_admin_when_enabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from etl_express.settings import reset_settings_cache

    monkeypatch.setenv("ETLX_ALLOW_PYTHON_TRANSFORMS", "true")
    reset_settings_cache()
    try:
        payload = {
            "language": "python",
            "inputs": [{"name": "customers"}],
            "code": "def transform(inputs):\n    return inputs['customers']\n",
        }
        spec = parse_script("transformation", payload, make_world(is_admin=True))
        assert isinstance(spec, TransformationSpec) and spec.language == "python"
        with pytest.raises(ValidationFailed) as failed:
            parse_script(
                "transformation", {**payload, "code": "x = 1\n"}, make_world(is_admin=True)
            )
        assert [e.path for e in failed.value.errors] == ["$.code"]
    finally:
        monkeypatch.delenv("ETLX_ALLOW_PYTHON_TRANSFORMS")
        reset_settings_cache()


def test_params_read_by_an_extraction_must_be_task_params() -> None:
    ctx = make_world()
    query = "SELECT * FROM customers WHERE city = {{ params.city }}"
    ctx.scripts[("by_city", 1)] = (
        ScriptKind.extraction,
        {"source": "postgres", "connection_id": "etlx_demo", "query": query},
        None,
    )
    payload = _task()
    payload["scripts"]["extraction"] = [{"name": "by_city", "version": 1, "input": "customers"}]
    with pytest.raises(ValidationFailed) as failed:
        parse_task(payload, ctx)
    assert [e.path for e in failed.value.errors] == ["$.scripts.extraction[0]"]
    assert "params.city" in failed.value.errors[0].message
    payload["params"] = {"city": "Kazan"}
    assert parse_task(payload, ctx).params == {"city": "Kazan"}


def test_a_python_transformation_can_be_attached_now_that_the_engine_runs_it() -> None:
    ctx = make_world()
    code = "def transform(inputs):\n    return inputs['customers']\n"
    ctx.scripts[("py_transform", 1)] = (
        ScriptKind.transformation,
        {"language": "python", "inputs": [{"name": "customers"}], "code": code},
        None,
    )
    payload = _task()
    payload["scripts"]["transformation"] = {"name": "py_transform", "version": 1}
    assert parse_task(payload, ctx).scripts.transformation is not None


def test_a_streamed_task_must_be_one_the_stream_can_run() -> None:
    def refusal(payload: dict) -> str:
        with pytest.raises(ValidationFailed) as failed:
            parse_task(payload, ctx)
        return {e.path: e.message for e in failed.value.errors}.get("$.execution", "")

    ctx = make_world()
    payload = _task()
    payload["execution"] = "streamed"
    # the demo's dedupe keeps the last row of a key: known only once every row is read
    assert "last row" in refusal(payload) and "choose mapped" in refusal(payload)
    kind, rules, _ = ctx.scripts[("demo_customers_rules", 1)]
    ctx.scripts[("keep_first", 1)] = (
        kind,
        {**rules, "dedupe": {**rules["dedupe"], "keep": "first"}},
        None,
    )
    payload["scripts"]["field_rules"] = {"name": "keep_first", "version": 1}
    assert parse_task(payload, ctx).execution == "streamed"
    kind, transform, _ = ctx.scripts[("demo_customers_enrich", 1)]
    grouped = {**transform, "sql": "SELECT city, count(*) AS n FROM customers GROUP BY city"}
    ctx.scripts[("by_city", 1)] = (kind, grouped, None)
    payload["scripts"]["transformation"] = {"name": "by_city", "version": 1}
    assert "row-wise" in refusal(payload)
    payload["execution"] = "mapped"
    assert refusal(payload) == ""  # other checks may fail, but not this one
    payload["execution"] = "fast"
    with pytest.raises(ValidationFailed) as failed:
        parse_task(payload)
    assert [e.path for e in failed.value.errors] == ["$.execution"]

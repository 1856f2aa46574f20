"""Bad-input corpus through the registry: each payload is refused with the right field path,
and nothing is written — no version, no task, no pin, no audit event."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from registry_payloads import ANONYMIZATION, EXTRACTION, FIELD_RULES, SCRIPTS, UPLOAD, task_payload

from etl_express.errors import ValidationFailed
from etl_express.registry import scripts, tasks
from etl_express.stores.db import make_engine
from etl_express.stores.schema import audit_events, etl_tasks, script_versions, task_scripts
from etl_express.stores.schema import scripts as t_scripts

TRANSFORMATION: dict[str, Any] = {"inputs": [{"name": "source"}], "sql": "SELECT * FROM source"}
TABLES = (t_scripts, script_versions, etl_tasks, task_scripts, audit_events)


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def _without(base: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    del out[key]
    return out


def _field_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {"fields": {"email": rule}}


# (case id, kind, script name, payload, expected path prefix)
BAD_SCRIPTS: list[tuple[str, str, str, Any, str]] = [
    ("dml", "extraction", "s", _with(EXTRACTION, query="DELETE FROM customers"), "$.query"),
    ("ddl", "extraction", "s", _with(EXTRACTION, query="DROP TABLE customers"), "$.query"),
    ("two_statements", "extraction", "s", _with(EXTRACTION, query="SELECT 1; SELECT 2"), "$.query"),
    (
        "select_into",
        "extraction",
        "s",
        _with(EXTRACTION, query="SELECT * INTO t FROM c"),
        "$.query",
    ),
    ("not_sql", "extraction", "s", _with(EXTRACTION, query="SELEC id FRM c"), "$.query"),
    (
        "oversize_query",
        "extraction",
        "s",
        _with(EXTRACTION, query="SELECT " + "1," * 60_000 + "1"),
        "$.query",
    ),
    ("unknown_source", "extraction", "s", _with(EXTRACTION, source="oracle"), "$.source"),
    ("chunk_zero", "extraction", "s", _with(EXTRACTION, chunk_size=0), "$.chunk_size"),
    ("chunk_huge", "extraction", "s", _with(EXTRACTION, chunk_size=10**12), "$.chunk_size"),
    ("chunk_text", "extraction", "s", _with(EXTRACTION, chunk_size="many"), "$.chunk_size"),
    (
        "bad_conn_id",
        "extraction",
        "s",
        _with(EXTRACTION, connection_id="bad id!"),
        "$.connection_id",
    ),
    ("unknown_key", "extraction", "s", _with(EXTRACTION, querry="SELECT 1"), "$.querry"),
    (
        "bad_type",
        "extraction",
        "s",
        _with(EXTRACTION, output_schema=[{"name": "id", "type": "varchar"}]),
        "$.output_schema[0]",
    ),
    (
        "unknown_incremental",
        "extraction",
        "s",
        _with(EXTRACTION, incremental_column="updated_at"),
        "$.incremental_column",
    ),
    ("not_a_mapping", "extraction", "s", ["SELECT 1"], "$"),
    ("empty_rules", "field_rules", "s", {}, "$"),
    (
        "unknown_step",
        "field_rules",
        "s",
        _field_rule({"steps": [{"op": "explode"}]}),
        "$.fields.email.steps[0]",
    ),
    (
        "bad_regex",
        "field_rules",
        "s",
        _field_rule({"steps": [{"op": "regex_replace", "pattern": "(", "replacement": ""}]}),
        "$.fields.email.steps[0].pattern",
    ),
    (
        "unknown_gx",
        "field_rules",
        "s",
        _field_rule({"validations": [{"expectation": "expect_column_to_be_nice"}]}),
        "$.fields.email.validations[0].expectation",
    ),
    (
        "bad_severity",
        "field_rules",
        "s",
        _field_rule(
            {
                "validations": [
                    {"expectation": "expect_column_values_to_not_be_null", "severity": "explode"}
                ]
            }
        ),
        "$.fields.email.validations[0].severity",
    ),
    ("empty_dedupe", "field_rules", "s", {"dedupe": {"keys": []}}, "$.dedupe.keys"),
    (
        "transform_dml",
        "transformation",
        "s",
        _with(TRANSFORMATION, sql="DELETE FROM source"),
        "$.sql",
    ),
    ("transform_no_inputs", "transformation", "s", _with(TRANSFORMATION, inputs=[]), "$.inputs"),
    (
        "transform_bad_input",
        "transformation",
        "s",
        _with(TRANSFORMATION, inputs=[{"name": "Bad-Name"}]),
        "$.inputs[0].name",
    ),
    (
        "python_not_allowed",
        "transformation",
        "s",
        {
            "language": "python",
            "inputs": [{"name": "source"}],
            "code": "def transform(x): return x",
        },
        "$.language",
    ),
    (
        "unknown_operator",
        "anonymization",
        "s",
        {"columns": {"email": {"operator": "shred"}}},
        "$.columns.email",
    ),
    (
        "qi_dropped",
        "anonymization",
        "s",
        {"columns": {"city": {"operator": "drop"}}, "quasi_identifiers": ["city"]},
        "$.quasi_identifiers",
    ),
    (
        "both_kinds_of_column",
        "anonymization",
        "s",
        {
            "columns": {"note": {"operator": "drop"}},
            "text_columns": {"note": {"entities": {"PERSON": {"operator": "redact"}}}},
        },
        "$.text_columns",
    ),
    ("unknown_destination", "upload", "s", _with(UPLOAD, destination="ftp"), "$.destination"),
    (
        "mlflow_needs_connection",
        "upload",
        "s",
        {"destination": "mlflow", "options": {"experiment_name": "x"}},
        "$.connection_id",
    ),
    (
        "relative_directory",
        "upload",
        "s",
        _with(UPLOAD, options={"directory": "out"}),
        "$.options.directory",
    ),
    ("local_with_connection", "upload", "s", _with(UPLOAD, connection_id="x"), "$.connection_id"),
    ("unknown_kind", "loader", "s", UPLOAD, "$.kind"),
    ("bad_name", "upload", "no spaces please", UPLOAD, "$.name"),
    ("name_of_other_kind", "upload", "customers_pg", UPLOAD, "$.name"),
    ("oversize_description", "upload", "s", _with(UPLOAD, description="x" * 2001), "$.description"),
]


def _scripts_of(**changes: Any) -> dict[str, Any]:
    payload = task_payload()
    payload["scripts"].update(changes)
    return payload


BAD_TASKS: list[tuple[str, Any, str]] = [
    ("missing_field_rules", _scripts_of(field_rules=None), "$.scripts.field_rules"),
    ("missing_upload", _scripts_of(upload=None), "$.scripts.upload"),
    ("no_scripts", _without(task_payload(), "scripts"), "$.scripts"),
    ("no_extraction", _scripts_of(extraction=[]), "$.scripts.extraction"),
    ("unknown_script", _scripts_of(upload={"name": "nope"}), "$.scripts.upload.name"),
    (
        "unknown_version",
        _scripts_of(extraction=[{"name": "customers_pg", "version": 9}]),
        "$.scripts.extraction[0].name",
    ),
    ("wrong_kind", _scripts_of(upload={"name": "customers_rules"}), "$.scripts.upload.name"),
    ("bad_cron", task_payload(schedule="61 * * * *"), "$.schedule"),
    ("bad_preset", task_payload(schedule="@fortnightly"), "$.schedule"),
    ("duplicate_name", task_payload("Existing task"), "$.name"),
    ("retention_zero", task_payload(retention_days=0), "$.retention_days"),
    ("retention_huge", task_payload(retention_days=100_000), "$.retention_days"),
    ("unknown_column", task_payload(quasi_identifiers=["zip"]), "$.quasi_identifiers[0]"),
    (
        "two_extractions_no_transform",
        _scripts_of(
            extraction=[
                {"name": "customers_pg", "input": "a"},
                {"name": "customers_pg", "input": "b"},
            ]
        ),
        "$.scripts.transformation",
    ),
    (
        "same_input_twice",
        _scripts_of(extraction=[{"name": "customers_pg"}, {"name": "customers_pg"}]),
        "$.scripts.extraction",
    ),
    ("oversize_name", task_payload("x" * 201), "$.name"),
    ("no_slug_from_name", task_payload("Только кириллица"), "$.slug"),
    ("bad_slug", task_payload(slug="Bad Slug"), "$.slug"),
    ("no_owner", _without(task_payload(), "owner"), "$.owner"),
    ("unknown_key", task_payload(colour="blue"), "$.colour"),
    ("not_a_mapping", "name: x", "$"),
]


@pytest.fixture(scope="module")
def engine(etlx_db_url: str, etlx_reset: Callable[[str], None]) -> Iterator[sa.Engine]:
    """Scripts and one task saved once; every case must leave them exactly as they are."""
    etlx_reset(etlx_db_url)
    engine = make_engine(etlx_db_url)
    for name, (kind, spec) in SCRIPTS.items():
        scripts.save_script(engine, kind=kind, name=name, spec=copy.deepcopy(spec), actor="a")
    tasks.save_task(engine, task_payload("Existing task"), "a")
    yield engine
    engine.dispose()


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in TABLES
        }


def _assert_refused(engine: sa.Engine, save: Callable[[], object], path: str) -> None:
    before = _counts(engine)
    with pytest.raises(ValidationFailed) as info:
        save()
    paths = [e.path for e in info.value.errors]
    assert any(p == path or p.startswith(path) for p in paths), paths
    assert all(e.message for e in info.value.errors)
    assert _counts(engine) == before


@pytest.mark.parametrize(
    ("kind", "name", "payload", "path"),
    [case[1:] for case in BAD_SCRIPTS],
    ids=[case[0] for case in BAD_SCRIPTS],
)
def test_bad_script_is_refused_and_nothing_written(
    engine: sa.Engine, kind: str, name: str, payload: Any, path: str
) -> None:
    _assert_refused(
        engine,
        lambda: scripts.save_script(engine, kind=kind, name=name, spec=payload, actor="mallory"),
        path,
    )


@pytest.mark.parametrize(
    ("payload", "path"), [case[1:] for case in BAD_TASKS], ids=[case[0] for case in BAD_TASKS]
)
def test_bad_task_is_refused_and_nothing_written(
    engine: sa.Engine, payload: Any, path: str
) -> None:
    _assert_refused(engine, lambda: tasks.save_task(engine, payload, "mallory"), path)


def test_corpus_is_large_enough() -> None:
    assert len(BAD_SCRIPTS) + len(BAD_TASKS) >= 40


def test_the_corpus_baseline_is_valid(engine: sa.Engine) -> None:
    """The unmodified payloads save, so each refusal above is due to its one change."""
    for kind, spec in (
        ("extraction", EXTRACTION),
        ("field_rules", FIELD_RULES),
        ("anonymization", ANONYMIZATION),
        ("upload", UPLOAD),
        ("transformation", TRANSFORMATION),
    ):
        scripts.validate_script(engine, kind=kind, spec=spec)
    tasks.validate_task(engine, task_payload("A new task"))


@pytest.mark.parametrize("field", ["comment", "description"])
def test_oversize_comment_or_description_is_refused(engine: sa.Engine, field: str) -> None:
    def save() -> object:
        return scripts.save_script(
            engine, kind="upload", name="s", spec=UPLOAD, actor="m", **{field: "x" * 2001}
        )

    _assert_refused(engine, save, f"$.{field}")

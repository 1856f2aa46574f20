"""Quarantined rows reach PostgreSQL with their batch (``quarantine.batch_<id>``).

The stage entry points run the way the compiled DAG calls them (see test_stage_entry.py, whose
source table, bundle and environment these tests reuse): the quarantine is loaded hidden,
published with the batch in one transaction, replaced on a retry, dropped by the run-end
cleanup of a failed run, and dropped when its batch expires or is cancelled.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from test_stage_entry import ROWS, _task, bundle, outbox_state, run_all, run_info, source_url

from etl_express.registry import batches as registry
from etl_express.stages import entry, runner
from etl_express.stages.errors import StageError
from etl_express.stores.audit import search_events
from etl_express.stores.db import make_engine

__all__ = ["source_url"]  # a fixture, imported to be used here (`env` is the conftest's)

QUARANTINE_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'quarantine' ORDER BY 1"


@pytest.fixture
def bad_rows(source_url: str) -> str:
    """The people source with two rows the field rules quarantine: an id that is no number
    (strict cast) and a missing e-mail (not-null check, severity quarantine)."""
    with psycopg.connect(source_url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE VIEW people_bad AS SELECT id::text AS id, full_name, "
                     "email, phone, birth_date, inn, city, amount, updated_at FROM people "
                     "UNION ALL SELECT 'not-a-number', 'X', 'x@y.ru', NULL, DATE '1999-09-09', "
                     "NULL, 'kazan', 10, TIMESTAMPTZ '2024-01-01 00:00:00+00' "
                     "UNION ALL SELECT '900001', 'Y', NULL, NULL, NULL, NULL, 'perm', 12.5, "
                     "TIMESTAMPTZ '2024-01-01 00:00:00+00'")  # fmt: skip
    return "SELECT * FROM people_bad"


def _bundle(task_id: int, query: str) -> dict[str, Any]:
    b = bundle(task_id)
    b["scripts"][0]["spec"]["query"] = query
    return b


def _sql(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def _anonymized(run: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    cleaned = [entry.field_rules(run, b, c) for c in entry.extract(run, b)]
    return [entry.anonymize(run, b, c) for c in entry.transform(run, b, cleaned)]


def _batch(url: str, batch_id: int) -> Any:
    engine = make_engine(url)
    try:
        return registry.get_batch(engine, batch_id)
    finally:
        engine.dispose()


def test_quarantined_rows_are_published_with_the_batch(env: str, bad_rows: str) -> None:
    result = run_all(run_info("manual__q"), _bundle(_task(env), bad_rows))
    batch_id = result["batch_id"]
    assert _sql(env, QUARANTINE_TABLES) == [(f"batch_{batch_id}",)]
    columns = "_etlx_input, _etlx_chunk, _etlx_reasons, _etlx_severity, id, email, birth_date, city"
    rows = _sql(env, f"SELECT {columns} FROM quarantine.batch_{batch_id} ORDER BY id")
    assert [(r[0], r[2], r[3], r[4], r[5], str(r[6]), r[7]) for r in rows] == [
        ("source", "expect_column_values_to_not_be_null(email)", "quarantine", "900001", None,
         "None", "perm"),
        ("source", "cast(id)", "quarantine", "not-a-number", "x@y.ru", "1999-09-09", "kazan"),
    ]  # fmt: skip
    # source types kept where ingest can: the date stays a date, the amount a numeric
    types = dict(_sql(env, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_schema = 'quarantine'"))  # fmt: skip
    assert types["birth_date"] == "date" and types["_etlx_chunk"] == "integer"
    assert types["amount"] in ("numeric", "text")
    batch = _batch(env, batch_id)
    assert batch.quarantined_rows == 2
    summary = batch.privacy_report["quarantine"]
    assert summary["by_input"] == {"source": 2}
    assert summary["reasons"] == {"cast(id)": 1, "expect_column_values_to_not_be_null(email)": 1}
    assert batch.row_count == ROWS - 2  # the clean rows are unaffected


def test_a_retried_load_replaces_the_quarantine_and_a_failed_run_drops_it(
    env: str, bad_rows: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _bundle(_task(env), bad_rows)
    run = run_info("manual__qretry")
    anonymized = _anonymized(run, b)
    real = runner.finalize

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise StageError("finalize", None, "injected")

    monkeypatch.setattr(runner, "finalize", dies)
    for _ in range(2):  # the quarantine is loaded (hidden) on each attempt, never twice
        with pytest.raises(StageError):
            entry.load_outbox(run, b, anonymized)
    [(batch_id,)] = _sql(env, "SELECT id FROM outbox_batches")
    assert _sql(env, QUARANTINE_TABLES) == [(f"_loading_{batch_id}",)]
    assert _sql(env, f"SELECT count(*) FROM quarantine._loading_{batch_id}") == [(2,)]
    assert _batch(env, batch_id).quarantined_rows == 0  # nothing visible yet

    monkeypatch.setattr(runner, "finalize", real)
    result = entry.load_outbox(run, b, anonymized)
    assert _sql(env, QUARANTINE_TABLES) == [(f"batch_{batch_id}",)]
    assert _sql(env, f"SELECT count(*) FROM quarantine.batch_{batch_id}") == [(2,)]
    assert result["batch_id"] == batch_id and _batch(env, batch_id).quarantined_rows == 2

    # another run of the same task fails before publishing: cleanup leaves no quarantine behind
    failed_run = run_info("manual__qfail")
    anonymized = _anonymized(failed_run, b)
    monkeypatch.setattr(runner, "finalize", dies)
    with pytest.raises(StageError):
        entry.load_outbox(failed_run, b, anonymized)
    assert len(_sql(env, QUARANTINE_TABLES)) == 2
    done = entry.cleanup(failed_run, b)
    assert done["published"] is False and len(done["discarded"]) == 1
    assert _sql(env, QUARANTINE_TABLES) == [(f"batch_{batch_id}",)]  # the published one stays


def test_a_run_whose_rows_are_all_quarantined_makes_an_empty_batch(env: str) -> None:
    b = bundle(_task(env))
    b["scripts"][1]["spec"]["fields"]["inn"] = {"validations": [
        {"expectation": "expect_column_values_to_match_regex", "kwargs": {"regex": "^x"},
         "severity": "quarantine"}]}  # fmt: skip
    result = run_all(run_info("manual__qall"), b)
    assert result["row_count"] == 0 and result["state"] in ("ready_for_review", "blocked")
    batch = _batch(env, result["batch_id"])
    assert batch.quarantined_rows == ROWS + 1  # the duplicate too: dedupe is for clean rows
    assert outbox_state(env) == [(result["state"], result["table_name"], 0)]
    reasons = _sql(env, f"SELECT DISTINCT _etlx_reasons FROM quarantine.batch_{batch.id}")
    assert reasons == [("expect_column_values_to_match_regex(inn)",)]


def test_expiry_and_cancelling_drop_the_quarantine(env: str, bad_rows: str) -> None:
    b = _bundle(_task(env), bad_rows)
    first = run_all(run_info("manual__qexp"), b)["batch_id"]
    second = run_all(run_info("manual__qcancel"), b)["batch_id"]
    engine = make_engine(env)
    try:
        registry.transition(engine, first, "expired", reason="retention period over")
        registry.transition(engine, second, "cancelled", actor="alice")
        with engine.connect() as conn:
            events = search_events(conn, object_type="batch", action="batch.expired")
    finally:
        engine.dispose()
    assert _sql(env, QUARANTINE_TABLES) == []
    assert events[0]["details"] == {
        "reason": "retention period over",
        "quarantine_dropped": True,
    }


def test_no_quarantine_no_table(env: str) -> None:
    result = run_all(run_info("manual__qnone"), bundle(_task(env)))
    assert _sql(env, QUARANTINE_TABLES) == []
    assert _batch(env, result["batch_id"]).quarantined_rows == 0
    assert _sql(env, "SELECT count(*) FROM outbox_batches") == [(1,)]
    assert "quarantine" not in (_batch(env, result["batch_id"]).privacy_report or {})


def test_checks_great_expectations_runs_quarantine_with_the_batch(
    env: str, source_url: str
) -> None:
    """A strftime-format check of a field and a column-pair table validation, both run by
    Great Expectations inside the field rules, quarantine their rows through the stage entry
    points into the published batch's quarantine."""
    with psycopg.connect(source_url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE VIEW people_checked AS SELECT *, "
                     "CASE WHEN id = 6 THEN '06.01.1980' ELSE to_char(birth_date, 'YYYY-MM-DD') "
                     "END AS born_text, CASE WHEN id = 5 THEN 0 ELSE amount + 1 END AS paid "
                     "FROM people")  # fmt: skip
    b = _bundle(_task(env), "SELECT * FROM people_checked")
    rules = b["scripts"][1]["spec"]
    rules["fields"]["born_text"] = {"validations": [
        {"expectation": "expect_column_values_to_match_strftime_format",
         "kwargs": {"strftime_format": "%Y-%m-%d"}, "severity": "quarantine"}]}  # fmt: skip
    pair = {"column_A": "paid", "column_B": "amount"}
    rules["table_validations"] = [
        {"expectation": "expect_column_pair_values_a_to_be_greater_than_b", "kwargs": pair,
         "severity": "quarantine"}]  # fmt: skip
    result = run_all(run_info("manual__gx"), b)
    batch = _batch(env, result["batch_id"])
    rows = _sql(env, f"SELECT id, _etlx_reasons FROM quarantine.batch_{batch.id} ORDER BY id")
    assert rows == [
        (5, "expect_column_pair_values_a_to_be_greater_than_b(paid, amount)"),
        (6, "expect_column_values_to_match_strftime_format(born_text)"),
    ]
    assert batch.quarantined_rows == 2 and batch.row_count == ROWS - 4  # ids 1, 2: amount <= 3

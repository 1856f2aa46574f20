"""The DAG's stage entry points end to end on real PostgreSQL, with failure injection.

Runs extract → field_rules (per chunk) → transform → anonymize (per chunk) → load_outbox the
way the compiled DAG calls them, then breaks things: a bad value type, a stage that raises,
a load that dies half way. Each time: stage and chunk named, no row data in the message, no
visible batch, and a retry that ends with exactly the right rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from etl_express.settings import reset_settings_cache
from etl_express.stages import entry, runner
from etl_express.stages.errors import StageError
from etl_express.staging import StagingStore

ROWS = 2500
HIDDEN = (
    "SELECT count(*) FROM pg_tables WHERE schemaname = 'outbox' AND tablename LIKE '\\_loading\\_%'"
)
CHUNK = 1000


@pytest.fixture(scope="module")
def source_url(pg_database: str) -> str:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS people CASCADE")  # and views other tests made
        conn.execute(
            "CREATE TABLE people (id bigint, full_name text, email text, phone text, "
            "birth_date date, inn text, city text, amount numeric(12,2), "
            "updated_at timestamptz)"
        )
        conn.execute(
            "INSERT INTO people SELECT g, ' Иван ' || g, ' USER' || g || '@Example.com', "
            "CASE WHEN g % 2 = 0 THEN '8 916 ' || lpad(g::text, 7, '0') ELSE 'n/a' END, "
            "DATE '1980-01-01' + g, lpad((g * 7919)::text, 10, '0'), "
            "CASE WHEN g % 2 = 0 THEN 'moscow' ELSE 'kazan' END, g * 1.5, "
            f"TIMESTAMPTZ '2024-01-01 00:00:00+00' + make_interval(mins => g) "
            f"FROM generate_series(1, {ROWS}) g"
        )
        # one row duplicated: dedupe must remove it
        conn.execute("INSERT INTO people SELECT * FROM people WHERE id = 7")
    return pg_database


def _task(url: str) -> int:
    from etl_express.stores.db import make_engine
    from etl_express.stores.schema import etl_tasks

    engine = make_engine(url)
    with engine.begin() as conn:
        task_id = conn.execute(
            sa.insert(etl_tasks)
            .values(slug="people", name="people", owner="o", created_by="o", updated_by="o",
                    spec={})
            .returning(etl_tasks.c.id)
        ).scalar_one()  # fmt: skip
    engine.dispose()
    return int(task_id)


def bundle(task_id: int, **overrides: Any) -> dict[str, Any]:
    query = "SELECT * FROM people WHERE updated_at < {{ data_interval_end }}"
    extraction = {"source": "postgres", "connection_id": "src", "chunk_size": CHUNK, "query": query}
    field_rules = {
        "fields": {
            "full_name": {"steps": [{"op": "trim"}]},
            "email": {"steps": [{"op": "email"}],
                      "validations": [{"expectation": "expect_column_values_to_not_be_null",
                                       "severity": "quarantine"}]},
            "phone": {"steps": [{"op": "phone_e164", "default_region": "RU"}]},
            "city": {"steps": [{"op": "case", "to": "title"}]},
            "id": {"steps": [{"op": "cast", "to": "int64", "strict": True}]},
        },
        "dedupe": {"keys": ["id"]},
    }  # fmt: skip
    transformation = {"language": "sql", "inputs": [{"name": "source"}],
                      "sql": "SELECT id, full_name, email, phone, birth_date, inn, city, amount "
                             "FROM source WHERE amount > 3"}  # fmt: skip
    anonymization = {
        "columns": {
            "full_name": {"operator": "fake", "kind": "person_name"},
            "email": {"operator": "pseudonym"},
            "inn": {"operator": "pseudonym"},
            "phone": {"operator": "mask", "keep_last": 2},
            "birth_date": {"operator": "generalize", "kind": "date", "to": "year"},
        },
        "unlisted_columns": "keep",
    }
    specs = {
        "extraction": extraction,
        "field_rules": field_rules,
        "transformation": transformation,
        "anonymization": anonymization,
        **overrides,
    }
    return {
        "task": {"id": task_id, "slug": "people", "quasi_identifiers": ["city"], "params": {}},
        "scripts": [
            {"role": role, "position": 0, "input_name": "source" if role == "extraction" else None,
             "name": role, "kind": role, "version": 1, "spec": spec}
            for role, spec in specs.items() if spec is not None
        ],
    }  # fmt: skip


def run_info(run_id: str = "manual__1") -> dict[str, Any]:
    return {"dag_id": "etlx__people", "dag_run_id": run_id, "task_id": "x", "map_index": -1,
            "data_interval_start": "2024-01-01T00:00:00+00:00",
            "data_interval_end": "2024-01-03T00:00:00+00:00",
            "logical_date": "2024-01-01T00:00:00+00:00", "params": {}}  # fmt: skip


def run_all(run: dict[str, Any], bundle_: dict[str, Any]) -> dict[str, Any]:
    chunks = entry.extract(run, bundle_)
    cleaned = [entry.field_rules(run, bundle_, c) for c in chunks]
    shaped = entry.transform(run, bundle_, cleaned)
    anonymized = [entry.anonymize(run, bundle_, c) for c in shaped]
    return entry.load_outbox(run, bundle_, anonymized)


def outbox_state(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute(
            "SELECT state, table_name, row_count FROM outbox_batches ORDER BY id"
        ).fetchall()


def test_source_to_outbox(env: str) -> None:
    task_id = _task(env)
    result = run_all(run_info(), bundle(task_id))
    expected = ROWS - 1  # amount > 3 drops id 1 and 2; the duplicate of id 7 is removed
    assert result["row_count"] == expected - 1
    assert outbox_state(env) == [(result["state"], result["table_name"], expected - 1)]
    with psycopg.connect(env.replace("+psycopg", "")) as conn:
        row = conn.execute(
            f"SELECT id, full_name, email, phone, birth_date, city, amount "
            f"FROM outbox.{result['table_name']} WHERE id = 4"
        ).fetchone()
        report = conn.execute("SELECT privacy_report FROM outbox_batches").fetchone()[0]  # type: ignore[index]
    assert row is not None
    assert row[1] != "Иван 4" and "@" not in row[2] and row[3].endswith("04")
    assert str(row[4]) == "1980-01-01" and row[5] == "Moscow" and str(row[6]) == "6.00"
    assert report["k_anonymity"]["k"] > 1 and report["gate"]["chunks"] == 3
    # the run's staging is gone once the batch is published
    staging = Path(os.environ["ETLX_STAGING_DIR"])
    assert not staging.exists() or list(staging.iterdir()) == []
    # the run-end cleanup then finds nothing to do and leaves the published batch alone
    done = entry.cleanup(run_info(), bundle(task_id))
    assert done == {"discarded": [], "failed": [], "published": True}
    assert outbox_state(env) == [(result["state"], result["table_name"], expected - 1)]


def test_a_window_without_rows_succeeds_with_no_batch(env: str) -> None:
    task_id = _task(env)
    run = {**run_info("scheduled__empty"), "data_interval_end": "2000-01-01T00:00:00+00:00"}
    result = run_all(run, bundle(task_id))
    assert result == {"batch_id": None, "table_name": None, "state": "empty", "row_count": 0}
    assert outbox_state(env) == []  # nothing to review
    staging = Path(os.environ["ETLX_STAGING_DIR"])
    assert not staging.exists() or list(staging.iterdir()) == []
    assert entry.cleanup(run, bundle(task_id))["failed"] == []


def test_stage_that_raises_names_stage_and_chunk_without_data(env: str) -> None:
    task_id = _task(env)
    strict = bundle(task_id)
    rules = strict["scripts"][1]["spec"]
    rules["fields"]["inn"] = {"validations": [
        {"expectation": "expect_column_values_to_match_regex", "kwargs": {"regex": "^9"},
         "severity": "fail"}]}  # fmt: skip
    run = run_info("manual__fail")
    chunks = entry.extract(run, strict)
    with pytest.raises(StageError) as failed:
        entry.field_rules(run, strict, chunks[1])
    assert (failed.value.stage, failed.value.chunk) == ("field_rules", 1)
    assert "Иван" not in str(failed.value) and "0000" not in str(failed.value)
    assert outbox_state(env) == []  # no batch, visible or not
    # fixed script, same run: the retry goes through and overwrites the chunk
    assert run_all(run, bundle(task_id))["state"] in ("ready_for_review", "blocked")


def test_bad_row_types_are_quarantined(env: str, source_url: str) -> None:
    task_id = _task(env)
    with psycopg.connect(source_url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE VIEW people_text AS SELECT id::text AS id, full_name, "
                     "email, phone, birth_date, inn, city, amount, updated_at FROM people "
                     "UNION ALL SELECT 'not-a-number', 'X', 'x@y.ru', NULL, NULL, NULL, "
                     "'kazan', 10, TIMESTAMPTZ '2024-01-01 00:00:00+00'")  # fmt: skip
    b = bundle(task_id)
    b["scripts"][0]["spec"]["query"] = "SELECT * FROM people_text"
    run = run_info("manual__types")
    chunks = entry.extract(run, b)
    cleaned = [entry.field_rules(run, b, c) for c in chunks]
    assert sum(c["quarantined"] for c in cleaned) == 1
    ctx = runner.RunContext(StagingStore.from_settings(), "etlx__people/manual__types")
    quarantined = [ctx.read("quarantine.source", c["chunk"]) for c in cleaned]
    reasons = [r for t in quarantined for r in t.column("_etlx_reasons").to_pylist()]
    assert reasons == ["cast(id)"]


def _load_dies_on_chunk_1(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the outbox load of chunk 1 lose its connection; returns the real load."""
    from etl_express.stages import outbox

    real = outbox.load_chunk

    def dies(url: str, batch_id: int, chunk: int, data: Any) -> int:
        if chunk == 1:
            raise ConnectionError("connection lost (injected)")
        return real(url, batch_id, chunk, data)

    monkeypatch.setattr(outbox, "load_chunk", dies)
    return real


def test_load_dying_half_way_then_retry_gives_exact_rows(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each anonymize chunk loads its own rows: chunk 1's load dies, its retry loads it."""
    from etl_express.stages import outbox

    b = bundle(_task(env))
    run = run_info("manual__load")
    chunks = entry.extract(run, b)
    cleaned = [entry.field_rules(run, b, c) for c in chunks]
    shaped = entry.transform(run, b, cleaned)

    real = _load_dies_on_chunk_1(monkeypatch)
    first = entry.anonymize(run, b, shaped[0])
    with pytest.raises(StageError) as failed:
        entry.anonymize(run, b, shaped[1])
    assert (failed.value.stage, failed.value.chunk) == ("load_outbox", 1)
    state = outbox_state(env)
    assert [(s, t) for s, t, _ in state] == [("processing", None)]  # nothing reviewable
    monkeypatch.setattr(outbox, "load_chunk", real)
    anonymized = [first, *(entry.anonymize(run, b, c) for c in shaped[1:])]  # the retry
    assert all(c["loaded"] for c in anonymized)
    result = entry.load_outbox(run, b, anonymized)
    assert result["row_count"] == ROWS - 2
    # the staged chunks were removed on success; the batch stays as published
    assert outbox_state(env) == [(result["state"], result["table_name"], ROWS - 2)]


def test_chunks_are_loaded_by_load_outbox_without_a_database_at_anonymize(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk anonymized where no outbox database is configured is staged, and
    load_outbox loads it: the same rows either way."""
    b = bundle(_task(env))
    run = run_info("manual__staged")
    cleaned = [entry.field_rules(run, b, c) for c in entry.extract(run, b)]
    shaped = entry.transform(run, b, cleaned)
    monkeypatch.delenv("ETLX_DATABASE_URL")
    reset_settings_cache()
    staged = [entry.anonymize(run, b, c) for c in shaped]
    assert not any(c["loaded"] for c in staged)
    assert outbox_state(env) == []  # no batch yet
    monkeypatch.setenv("ETLX_DATABASE_URL", env)
    reset_settings_cache()
    result = entry.load_outbox(run, b, staged)
    assert result["row_count"] == ROWS - 2


def test_cleanup_after_a_failed_run_removes_staging_and_hidden_table(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = bundle(_task(env))
    run = run_info("manual__cleanup")
    shaped = entry.transform(run, b, [entry.field_rules(run, b, c) for c in entry.extract(run, b)])
    _load_dies_on_chunk_1(monkeypatch)
    entry.anonymize(run, b, shaped[0])
    with pytest.raises(StageError):
        entry.anonymize(run, b, shaped[1])
    with psycopg.connect(env.replace("+psycopg", "")) as conn:
        hidden = conn.execute(HIDDEN).fetchone()
    assert hidden == (1,)
    done = entry.cleanup(run, b)
    [batch_id] = done["discarded"]
    assert done == {"discarded": [batch_id], "failed": [batch_id], "published": False}
    with psycopg.connect(env.replace("+psycopg", "")) as conn:
        hidden = conn.execute(HIDDEN).fetchone()
    assert hidden == (0,)
    assert outbox_state(env) == [("failed", None, 0)]
    store = StagingStore.from_settings()
    assert store.chunks("etlx__people/manual__cleanup", "anonymize", kind="json") == []
    # idempotent: nothing more to fail, staging already gone
    assert entry.cleanup(run, b) == {"discarded": [batch_id], "failed": [], "published": False}


def _outbox_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute(f"SELECT * FROM outbox.{table} ORDER BY id").fetchall()


def test_row_wise_transformation_runs_in_the_chunks_with_the_same_outbox(env: str) -> None:
    """A row-wise query is planned by transform and applied inside each anonymize chunk; the
    same query made to need all rows (ORDER BY) runs once over all chunks. Same outbox."""
    task_id = _task(env)
    chunkwise = bundle(task_id)
    run = run_info("manual__rowwise")
    chunks = entry.extract(run, chunkwise)
    cleaned = [entry.field_rules(run, chunkwise, c) for c in chunks]
    shaped = entry.transform(run, chunkwise, cleaned)
    assert [c.get("transform") for c in shaped] == ["source"] * 3
    anonymized = [entry.anonymize(run, chunkwise, c) for c in shaped]
    assert all(c["transform"] == "source" for c in anonymized)
    ctx = runner.RunContext(StagingStore.from_settings(), "etlx__people/manual__rowwise")
    moved = [ctx.store.read_json(ctx.run_id, runner.TRANSFORM, i) for i in range(3)]
    # amount > 3 drops ids 1 and 2 from chunk 0; the run-wide dedupe drops the copy of id 7
    assert sum(m["rows_in"] for m in moved) == ROWS + 1 and sum(m["rows_out"] for m in moved) == (
        ROWS - 2
    )
    first = entry.load_outbox(run, chunkwise, anonymized)

    whole = bundle(task_id)
    sql = whole["scripts"][2]["spec"]["sql"]
    whole["scripts"][2]["spec"]["sql"] = sql + " ORDER BY id"
    second = run_all(run_info("manual__whole"), whole)
    assert first["row_count"] == second["row_count"] == ROWS - 2
    assert _outbox_rows(env, first["table_name"]) == _outbox_rows(env, second["table_name"])


def test_a_bad_row_wise_query_fails_the_transform_stage_once(env: str) -> None:
    b = bundle(_task(env))
    b["scripts"][2]["spec"]["sql"] = "SELECT id, no_such_column FROM source"
    run = run_info("manual__badsql")
    cleaned = [entry.field_rules(run, b, c) for c in entry.extract(run, b)]
    with pytest.raises(StageError) as failed:
        entry.transform(run, b, cleaned)
    assert (failed.value.stage, failed.value.chunk) == ("transform", None)
    assert "no_such_column" in str(failed.value)


def test_a_row_wise_query_failing_on_one_chunk_names_transform_and_that_chunk(env: str) -> None:
    b = bundle(_task(env))
    # only the rows of chunk 1 (ids 1001..2000) hold a value the cast refuses
    b["scripts"][2]["spec"]["sql"] = (
        "SELECT id, full_name, email, phone, birth_date, inn, city, "
        "CAST(CASE WHEN id BETWEEN 1200 AND 1300 THEN 'x' ELSE '1' END AS INTEGER) AS v "
        "FROM source"
    )
    run = run_info("manual__chunkfail")
    cleaned = [entry.field_rules(run, b, c) for c in entry.extract(run, b)]
    shaped = entry.transform(run, b, cleaned)
    entry.anonymize(run, b, shaped[0])
    with pytest.raises(StageError) as failed:
        entry.anonymize(run, b, shaped[1])
    assert (failed.value.stage, failed.value.chunk) == ("transform", 1)
    assert "Иван" not in str(failed.value)


def test_k_anonymity_from_chunk_counts_equals_postgresql_over_the_batch(env: str) -> None:
    from etl_express.stages.outbox import k_anonymity_sql
    from etl_express.stores.db import make_engine

    b = bundle(_task(env))
    b["task"]["quasi_identifiers"] = ["city", "birth_date"]
    run = run_info("manual__kanon")
    result = run_all(run, b)
    engine = make_engine(env)
    try:
        with engine.connect() as conn:
            report = conn.execute(
                sa.text("SELECT privacy_report FROM outbox_batches WHERE id = :i"),
                {"i": result["batch_id"]},
            ).scalar_one()
            expected = k_anonymity_sql(conn, result["table_name"], ["city", "birth_date"])
    finally:
        engine.dispose()
    assert report["k_anonymity"] == expected
    assert expected["groups"] > 1 and expected["k"] is not None


def test_a_chunk_without_its_dedupe_plan_fails_rather_than_skip_the_dedupe(env: str) -> None:
    b = bundle(_task(env))
    run = run_info("manual__noplan")
    cleaned = [entry.field_rules(run, b, c) for c in entry.extract(run, b)]
    shaped = entry.transform(run, b, cleaned)
    store = StagingStore.from_settings()
    Path(store.chunk_path("etlx__people/manual__noplan", runner.DROPPED, 1)).unlink()
    with pytest.raises(StageError, match="dedupe plan for chunk 1 is missing") as failed:
        entry.anonymize(run, b, shaped[1])
    assert (failed.value.stage, failed.value.chunk) == ("transform", 1)


def test_an_interval_from_the_transformation_reaches_the_outbox(env: str) -> None:
    b = bundle(_task(env))
    b["scripts"][2]["spec"]["sql"] = (
        "SELECT id, full_name, email, phone, birth_date, inn, city, "
        "CAST(birth_date AS TIMESTAMP) - TIMESTAMP '1980-01-01' AS since FROM source"
    )
    result = run_all(run_info("manual__interval"), b)
    with psycopg.connect(env.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT pg_typeof(since)::text, since::text "
            f"FROM outbox.{result['table_name']} WHERE id = 4"
        ).fetchone()
    assert row == ("interval", "96:00:00")  # a duration: microseconds, no calendar days

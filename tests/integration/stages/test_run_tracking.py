"""Stage calls leave their progress and failures on the task's run row (real PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from etl_express.configio.apply import apply
from etl_express.configio.documents import load_documents
from etl_express.registry import runs, tasks
from etl_express.stages import tracking
from etl_express.stages.errors import StageError

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "include" / "scripts" / "demo"


@pytest.fixture
def bundle(etlx_engine: sa.Engine) -> dict[str, Any]:
    apply(etlx_engine, load_documents([DEMO]), "tester")
    task = tasks.get_task(etlx_engine, "demo_customers")
    return {"task": {"id": task.id, "slug": task.slug}, "scripts": []}


def _run(map_index: int = -1) -> dict[str, Any]:
    return {"dag_id": "etlx__demo_customers", "dag_run_id": "manual__1", "map_index": map_index}


def _only_run(engine: sa.Engine) -> Any:
    found = runs.list_runs(engine, task_slug="demo_customers")
    assert len(found) == 1
    return found[0]


def test_progress_failure_retry_and_success(etlx_engine: sa.Engine, bundle: dict[str, Any]) -> None:
    with tracking.tracked("extract", _run(), bundle, etlx_engine) as note:
        note([{"chunk": 0, "rows": 10}, {"chunk": 1, "rows": 5}])
    run = _only_run(etlx_engine)
    assert (run.state, run.stage) == ("running", "extract")
    assert run.stats["extract"] == {"chunks": 2, "rows_out": 15}
    assert run.stats["field_rules"] == {"chunks": 0, "chunks_expected": 2}

    with (
        pytest.raises(StageError),
        tracking.tracked("field_rules", _run(1), bundle, etlx_engine),
    ):
        raise StageError("field_rules", 1, "expectation failed on 3 rows")
    run = _only_run(etlx_engine)
    assert run.state == "failed"
    assert run.error == {
        "stage": "field_rules",
        "chunk": 1,
        "message": "expectation failed on 3 rows",
    }

    with tracking.tracked("field_rules", _run(1), bundle, etlx_engine) as note:  # the retry
        note({"chunk": 1, "rows_in": 5, "rows_out": 4})
    run = _only_run(etlx_engine)
    assert run.state == "running" and run.error is None
    # No staged stats to read: the chunk's own result counts, under the stage's one total.
    assert run.stats["field_rules"] == {
        "chunks": 1,
        "chunks_expected": 2,
        "rows_in": 5,
        "rows_out": 4,
    }

    with tracking.tracked("load_outbox", _run(), bundle, etlx_engine) as note:
        note({"batch_id": 1, "rows": 4})
    run = _only_run(etlx_engine)
    assert run.state == "success" and run.ended_at is not None


def test_unexpected_errors_are_recorded_without_their_message(
    etlx_engine: sa.Engine, bundle: dict[str, Any]
) -> None:
    with pytest.raises(ValueError), tracking.tracked("transform", _run(), bundle, etlx_engine):
        raise ValueError("Иванов Иван, +7 916 000-00-00")
    run = _only_run(etlx_engine)
    assert run.state == "failed"
    assert run.error["stage"] == "transform"
    assert run.error["message"].startswith("ValueError (details withheld")
    assert "Иванов" not in str(run.error)


def test_without_a_database_tracking_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking, "_engine", lambda: None)
    with tracking.tracked("extract", _run(), {"task": {"id": 1}}) as note:
        note([{"rows": 1}])


def test_summary_counts_rows() -> None:
    assert tracking.summary([{"rows": 2, "chunk": 0}, {"rows": 3, "chunk": 1}]) == {
        "chunks": 2,
        "rows": 5,
    }
    assert tracking.summary({"rows_in": 4, "rows_out": 3, "ok": True}) == {
        "rows_in": 4,
        "rows_out": 3,
    }


def test_mapped_stages_record_totals_of_all_staged_chunks(
    etlx_engine: sa.Engine, bundle: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl_express.stages.runner import FIELD_RULES, RunContext
    from etl_express.staging.store import StagingStore

    monkeypatch.setenv("ETLX_STAGING_URL", str(tmp_path))
    ctx = RunContext(StagingStore(str(tmp_path)), "etlx__demo_customers/manual__1")
    ctx.stats(FIELD_RULES, 0, {"rows_in": 5, "rows_out": 4})
    ctx.stats(FIELD_RULES, 1, {"rows_in": 3, "rows_out": 3})
    for index in (0, 1):  # each chunk's task records its own chunk
        with tracking.tracked("field_rules", _run(index), bundle, etlx_engine) as note:
            note({"chunk": index})
    run = _only_run(etlx_engine)
    assert run.stats["field_rules"] == {"chunks": 2, "rows_in": 8, "rows_out": 7}


def test_a_retried_chunk_is_counted_once(
    etlx_engine: sa.Engine, bundle: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl_express.stages.runner import ANONYMIZE, TRANSFORM, RunContext
    from etl_express.staging.store import StagingStore

    monkeypatch.setenv("ETLX_STAGING_URL", str(tmp_path))
    ctx = RunContext(StagingStore(str(tmp_path)), "etlx__demo_customers/manual__1")

    def anonymize(index: int, rows: int, try_number: int = 1) -> None:
        ctx.stats(ANONYMIZE, index, {"stats": {"rows": rows}, "gate": {"passed": True}})
        run = {**_run(index), "try_number": try_number}
        with tracking.tracked("anonymize", run, bundle, etlx_engine) as note:
            note({"chunk": index, "stage": ANONYMIZE})

    for index in range(3):
        anonymize(index, 10)
    anonymize(1, 7, try_number=2)  # a retry of chunk 1 restaged it with other counts
    anonymize(1, 7, try_number=3)
    run = _only_run(etlx_engine)
    assert run.stats["anonymize"] == {
        "chunks": 3,
        "rows_in": 27,
        "rows_out": 27,
        "gate_findings": 0,
    }
    assert run.stage == "anonymize"

    # transform made again (a cleared run): anonymize's chunks from before no longer count
    ctx.stats(TRANSFORM, 0, {"rows_out": 12})
    fed = [{"input": "customers", "chunk": 0, "stage": "field_rules.customers", "rows": 13}]
    with tracking.tracked("transform", _run(), bundle, etlx_engine, inputs=(fed,)) as note:
        note([{"chunk": 0, "stage": TRANSFORM}])
    run = _only_run(etlx_engine)
    assert run.stats["anonymize"] == {"chunks": 0, "chunks_expected": 1}
    assert run.stats["transform"] == {"chunks": 1, "rows_in": 13, "rows_out": 12}
    anonymize(0, 12, try_number=2)
    assert _only_run(etlx_engine).stats["anonymize"] == {
        "chunks": 1,
        "chunks_expected": 1,
        "rows_in": 12,
        "rows_out": 12,
        "gate_findings": 0,
    }


def test_cleanup_keeps_a_recorded_failure(etlx_engine: sa.Engine, bundle: dict[str, Any]) -> None:
    with (
        pytest.raises(StageError),
        tracking.tracked("anonymize", {**_run(0), "try_number": 1}, bundle, etlx_engine),
    ):
        raise StageError("anonymize", 0, "no pseudonym key")
    # a sibling chunk starting for the first time is no retry: the failure stays
    with tracking.tracked("anonymize", {**_run(1), "try_number": 1}, bundle, etlx_engine) as note:
        note({"chunk": 1})
    with tracking.tracked("cleanup", _run(), bundle, etlx_engine) as note:
        note({"discarded": [], "failed": [], "published": False})
    with pytest.raises(RuntimeError), tracking.tracked("cleanup", _run(), bundle, etlx_engine):
        raise RuntimeError("the cleanup itself failed")  # a teardown retry may follow
    run = _only_run(etlx_engine)
    assert run.state == "failed" and run.stage == "anonymize"
    assert run.error == {"stage": "anonymize", "chunk": 0, "message": "no pseudonym key"}

    # a retry of the failed chunk resumes the run
    with tracking.tracked("anonymize", {**_run(0), "try_number": 2}, bundle, etlx_engine):
        pass
    assert _only_run(etlx_engine).state == "running"


def test_cleanup_closes_a_run_whose_stage_was_stopped(
    etlx_engine: sa.Engine, bundle: dict[str, Any]
) -> None:
    """A killed or timed-out task records nothing; the teardown still runs and closes the row."""
    with tracking.tracked("transform", _run(), bundle, etlx_engine) as note:
        note([{"chunk": 0}])
    with tracking.tracked("cleanup", _run(), bundle, etlx_engine) as note:
        note({"discarded": [3], "failed": [3], "published": False})
    run = _only_run(etlx_engine)
    assert run.state == "failed" and run.ended_at is not None and run.stage == "transform"
    assert run.error == {"stage": "transform", "chunk": None, "message": tracking.STOPPED}


def test_cleanup_after_success_changes_nothing(
    etlx_engine: sa.Engine, bundle: dict[str, Any]
) -> None:
    with tracking.tracked("load_outbox", _run(), bundle, etlx_engine) as note:
        note({"batch_id": 1, "rows": 4})
    before = _only_run(etlx_engine)
    with tracking.tracked("cleanup", _run(), bundle, etlx_engine) as note:
        note({"discarded": [], "failed": [], "published": True})
    assert _only_run(etlx_engine) == before
    assert before.state == "success" and before.stage == "load_outbox"


def test_one_total_per_stage_as_a_real_run_stages_its_chunks(
    etlx_engine: sa.Engine, bundle: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two extraction inputs; field rules stage each under `field_rules.<input>` with chunk
    numbers per input, while map indexes run over all chunks. The run shows one total per
    stage, chunks done of chunks expected, and each input's part of the field rules."""
    from etl_express.stages.runner import ANONYMIZE, LOAD, TRANSFORM, RunContext
    from etl_express.staging.store import StagingStore

    monkeypatch.setenv("ETLX_STAGING_URL", str(tmp_path))
    ctx = RunContext(StagingStore(str(tmp_path)), "etlx__demo_customers/manual__1")

    def stats() -> dict[str, Any]:
        return dict(_only_run(etlx_engine).stats)

    extracted: list[dict[str, Any]] = [
        {"input": name, "chunk": chunk, "stage": f"extract.{name}"}
        for name, chunk in (("customers", 0), ("customers", 1), ("orders", 0))
    ]
    with tracking.tracked("extract", _run(), bundle, etlx_engine) as note:
        note(extracted)
    assert stats()["field_rules"] == {
        "chunks": 0,
        "chunks_expected": 3,
        "inputs": {
            "customers": {"chunks": 0, "chunks_expected": 2},
            "orders": {"chunks": 0, "chunks_expected": 1},
        },
    }

    counts = [(100, 97, 3), (50, 50, 0), (20, 18, 2)]  # rows in, out, quarantined per chunk
    cleaned = []
    for index, (item, (rows_in, rows_out, quarantined)) in enumerate(
        zip(extracted, counts, strict=True)
    ):
        target = f"field_rules.{item['input']}"
        staged = {"rows_in": rows_in, "rows_out": rows_out, "rows_quarantined": quarantined}
        ctx.stats(target, item["chunk"], staged)
        result = {**item, "stage": target, "rows": rows_out, "quarantined": quarantined}
        with tracking.tracked("field_rules", _run(index), bundle, etlx_engine) as note:
            note(result)
        cleaned.append(result)
        if index == 0:  # while the run goes: one chunk of three done
            assert stats()["field_rules"]["chunks"] == 1
            assert stats()["field_rules"]["chunks_expected"] == 3
    # a retry of the first chunk counts once
    with tracking.tracked("field_rules", {**_run(0), "try_number": 2}, bundle, etlx_engine) as note:
        note(cleaned[0])
    assert [k for k in stats() if k.startswith("field_rules")] == ["field_rules"]
    assert stats()["field_rules"] == {
        "chunks": 3,
        "chunks_expected": 3,
        "rows_in": 170,
        "rows_out": 165,
        "rows_quarantined": 5,
        "inputs": {
            "customers": {
                "chunks": 2,
                "chunks_expected": 2,
                "rows_in": 150,
                "rows_out": 147,
                "rows_quarantined": 3,
            },
            "orders": {
                "chunks": 1,
                "chunks_expected": 1,
                "rows_in": 20,
                "rows_out": 18,
                "rows_quarantined": 2,
            },
        },
    }

    # transform: rows in are the field rules' rows out that fed it
    for chunk, rows in enumerate((100, 60)):
        ctx.stats(TRANSFORM, chunk, {"rows_out": rows})
    with tracking.tracked("transform", _run(), bundle, etlx_engine, inputs=(cleaned,)) as note:
        note([{"chunk": 0, "stage": TRANSFORM}, {"chunk": 1, "stage": TRANSFORM}])
    assert stats()["transform"] == {"chunks": 2, "rows_in": 165, "rows_out": 160}
    assert stats()["anonymize"] == {"chunks": 0, "chunks_expected": 2}

    reasons = [{"kind": "exact", "column": "email", "count": 1, "detail": ""}]
    for chunk, (rows, found) in enumerate(((100, []), (60, reasons))):
        gate = {"passed": not found, "reasons": found}
        ctx.stats(ANONYMIZE, chunk, {"stats": {"rows": rows}, "gate": gate})
        with tracking.tracked("anonymize", _run(chunk), bundle, etlx_engine) as note:
            note({"chunk": chunk, "stage": ANONYMIZE, "gate_passed": not found})
        assert stats()["anonymize"]["chunks"] == chunk + 1
    assert stats()["anonymize"] == {
        "chunks": 2,
        "chunks_expected": 2,
        "rows_in": 160,
        "rows_out": 160,
        "gate_findings": 1,
    }

    hidden = [{"chunk": 0, "stage": ANONYMIZE}, {"chunk": 1, "stage": ANONYMIZE}]
    ctx.store.cleanup(ctx.run_id)  # as the load does before it returns
    with tracking.tracked("load_outbox", _run(), bundle, etlx_engine, inputs=(hidden,)) as note:
        note({"batch_id": 1, "table_name": "b_1", "state": "blocked", "row_count": 160})
    run = _only_run(etlx_engine)
    assert run.state == "success" and run.stage == LOAD
    assert run.stats["load_outbox"] == {
        "chunks": 2,
        "chunks_expected": 2,
        "rows_in": 160,
        "rows_out": 160,
    }

    # extract made again (a cleared run): every later stage starts over
    with tracking.tracked("extract", _run(), bundle, etlx_engine) as note:
        note(extracted[:1])
    assert set(stats()) == {"extract", "field_rules"}
    assert stats()["field_rules"]["chunks_expected"] == 1


DAG_RUN = """
import sys
sys.path.insert(0, {bench!r})
from airflow_path import bench_bundle, run_dag
bundle = bench_bundle({task_id}, "tracked_dag", "SELECT * FROM tracked_people ORDER BY g", 1000)
state, seconds = run_dag(bundle, {source!r}, {outbox!r})
print("STATE", state)
"""


def test_a_real_dag_run_shows_one_total_per_stage(
    pg_database: str, etlx_db: str, etlx_engine: sa.Engine, tmp_path: Path
) -> None:
    """`dag.test()` of a compiled DAG (real stages, 3 chunks of 1,000 rows): the run's stats,
    as the API gives them, hold one total per stage; the audit trail shows them moving."""
    from etl_express.api.routers.tasks import TaskRuns
    from etl_express.stores.schema import audit_events, etl_tasks, outbox_batches

    # 2,500 rows: 5 without an id (quarantined by the field rules), and one id twice in
    # different chunks (dropped by the transform's dedupe across chunks).
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS tracked_people")
        conn.execute(
            "CREATE TABLE tracked_people AS SELECT g, CASE WHEN g % 500 = 0 THEN NULL "
            "WHEN g = 2400 THEN 1 ELSE g END AS id, 'Анна ' || g AS full_name, "
            "'a' || g || '@example.com' AS email, '8 916 ' || lpad(g::text, 7, '0') AS phone, "
            "DATE '1990-01-01' + g AS birth_date, lpad(g::text, 10, '0') AS inn, "
            "'street ' || g AS address, (g * 100)::numeric(12,2) AS salary, "
            "TIMESTAMPTZ '2024-01-01 00:00:00+00' AS created_at, ' kazan ' AS city, "
            "true AS is_active FROM generate_series(1, 2500) g"
        )
    with etlx_engine.begin() as conn:
        task_id = conn.execute(
            sa.insert(etl_tasks)
            .values(slug="tracked_dag", name="tracked dag", owner="o", created_by="o",
                    updated_by="o", spec={})
            .returning(etl_tasks.c.id)
        ).scalar_one()  # fmt: skip
    bench = str(ROOT / "bench")
    code = DAG_RUN.format(bench=bench, task_id=task_id, source=pg_database, outbox=etlx_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "ETLX_"))}
    env["ETLX_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]

    found = runs.list_runs(etlx_engine, task_slug="tracked_dag")
    api = TaskRuns(dag_id="etlx__tracked_dag", runs=found, dag_runs=[]).model_dump(mode="json")
    (run,) = api["runs"]
    stats = run["stats"]
    assert run["state"] == "success" and run["stage"] == "load_outbox"
    assert sorted(stats) == ["anonymize", "extract", "field_rules", "load_outbox", "transform"]
    assert stats["extract"] == {
        "chunks": 3,
        "rows_out": 2500,
        "inputs": {"source": {"chunks": 3, "rows_out": 2500}},
    }
    rules = {
        "chunks": 3,
        "chunks_expected": 3,
        "rows_in": 2500,
        "rows_out": 2495,
        "rows_quarantined": 5,
    }
    assert stats["field_rules"] == {**rules, "inputs": {"source": rules}}
    # the bench SQL is row-wise: it runs inside the anonymize chunks, which count it
    assert stats["transform"] == {
        "chunks": 3,
        "chunks_expected": 3,
        "rows_in": 2495,
        "rows_out": 2494,
    }
    with etlx_engine.connect() as conn:
        report = conn.execute(sa.select(outbox_batches.c.privacy_report)).scalar_one()
        moves = conn.execute(
            sa.select(audit_events.c.after, audit_events.c.details)
            .where(audit_events.c.action == "run.stage", audit_events.c.object_id == str(run["id"]))
            .order_by(audit_events.c.id)
        ).all()
    findings = len(report["gate"]["reasons"])
    assert stats["anonymize"] == {
        "chunks": 3,
        "chunks_expected": 3,
        "rows_in": 2494,
        "rows_out": 2494,
        "gate_findings": findings,
    }
    assert stats["load_outbox"] == {
        "chunks": 3,
        "chunks_expected": 3,
        "rows_in": 2494,
        "rows_out": 2494,
    }
    # While the run went, each chunk moved its stage's total: 1 of 3, 2 of 3, 3 of 3.
    progress = [
        (
            m.after["stage"],
            m.details["stats"].get("chunks"),
            m.details["stats"].get("chunks_expected"),
        )
        for m in moves
    ]
    assert progress == [
        ("extract", 3, None),
        *[("field_rules", n, 3) for n in (1, 2, 3)],
        ("transform", 0, 3),
        *[(stage, n, 3) for n in (1, 2, 3) for stage in ("transform", "load_outbox", "anonymize")],
        ("load_outbox", 3, 3),
    ]

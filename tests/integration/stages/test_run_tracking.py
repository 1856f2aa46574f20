"""Stage calls leave their progress and failures on the task's run row (real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from etl_express.configio.apply import apply
from etl_express.configio.documents import load_documents
from etl_express.registry import runs, tasks
from etl_express.stages import tracking
from etl_express.stages.errors import StageError

DEMO = Path(__file__).resolve().parents[3] / "include" / "scripts" / "demo"


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
    assert run.stats["extract"] == {"chunks": 2, "rows": 15}

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
    assert run.stats["field_rules[1]"] == {"rows_in": 5, "rows_out": 4}

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
    assert run.stats["anonymize"] == {"chunks": 3, "rows_in": 27, "rows_out": 27}
    assert run.stage == "anonymize"

    # transform made again (a cleared run): anonymize's chunks from before no longer count
    ctx.stats(TRANSFORM, 0, {"rows_out": 12})
    with tracking.tracked("transform", _run(), bundle, etlx_engine) as note:
        note([{"chunk": 0}])
    run = _only_run(etlx_engine)
    assert "anonymize" not in run.stats
    assert run.stats["transform"] == {"chunks": 1, "rows_in": 0, "rows_out": 12}
    anonymize(0, 12, try_number=2)
    assert _only_run(etlx_engine).stats["anonymize"] == {"chunks": 1, "rows_in": 12, "rows_out": 12}


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
    assert run.state == "failed" and run.stage == "anonymize[1]"
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

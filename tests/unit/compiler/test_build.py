from __future__ import annotations

import itertools

import pytest
from records import demo_record

from etl_express.compiler.build import CompileError, compile_task, dag_id_for
from etl_express.compiler.bundle import bundle_of, decode, encode
from etl_express.compiler.loader import build_dags, compile_all

STAGES = ["extract", "field_rules", "transform", "anonymize", "load_outbox"]


def test_demo_task_becomes_its_dag() -> None:
    dag = compile_task(bundle_of(demo_record()))
    assert dag.dag_id == "etlx__demo_customers"
    assert sorted(dag.task_ids) == sorted([*STAGES, "cleanup"])
    for upstream, downstream in itertools.pairwise(STAGES):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert {"etl-express", "owner:admin", "demo"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert dag.is_paused_upon_creation is False
    assert dag.params["full_refresh"] is False


def test_cleanup_is_a_teardown_after_every_stage_that_does_not_decide_the_run_state() -> None:
    from airflow.sdk import TriggerRule

    dag = compile_task(bundle_of(demo_record()))
    cleanup = dag.get_task("cleanup")
    assert cleanup.is_teardown and not cleanup.is_setup
    assert cleanup.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS  # runs after failures too
    assert cleanup.on_failure_fail_dagrun is False
    assert cleanup.upstream_task_ids == set(STAGES)
    assert cleanup.downstream_task_ids == set()
    assert not any(t.is_setup for t in dag.tasks)  # no setup that could skip the teardown


def test_field_rules_and_anonymize_are_mapped_over_chunks() -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = compile_task(bundle_of(demo_record()))
    mapped = {t.task_id for t in dag.tasks if isinstance(t, MappedOperator)}
    assert mapped == {"field_rules", "anonymize"}


def test_a_streamed_task_is_one_process_task_then_its_cleanup() -> None:
    record = demo_record()
    record.spec = {**record.spec, "execution": "streamed"}
    bundle = bundle_of(record)
    assert bundle["task"]["execution"] == "streamed"
    dag = compile_task(bundle)
    assert sorted(dag.task_ids) == ["cleanup", "process"]
    cleanup = dag.get_task("cleanup")
    assert cleanup.is_teardown and cleanup.upstream_task_ids == {"process"}
    assert bundle_of(demo_record())["task"]["execution"] == "mapped"  # the default


def test_schedule_and_doc_name_every_script_version() -> None:
    dag = compile_task(bundle_of(demo_record(schedule="0 3 * * *")))
    assert dag.timetable.expression == "0 3 * * *"
    assert dag.doc_md is not None
    for name in ("demo_customers_extract", "demo_customers_rules", "demo_customers_enrich",
                 "demo_customers_anon", "demo_local_parquet"):  # fmt: skip
        assert f"| {name} | v1 |" in dag.doc_md
    assert "Schedule:** 0 3 * * *" in dag.doc_md
    assert "`full_refresh` = `False`" in dag.doc_md


@pytest.mark.parametrize(
    ("schedule", "cron"), [("@daily", "0 0 * * *"), ("15 2 * * 1", "15 2 * * 1")]
)
def test_scheduled_runs_cover_the_interval_since_the_previous_run(schedule: str, cron: str) -> None:
    import datetime as dt

    from airflow.sdk import CronDataIntervalTimetable

    dag = compile_task(bundle_of(demo_record(schedule=schedule)))
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == cron
    # what the scheduler makes of it: an incremental extraction reads [start, end), and a
    # scheduled run's interval is the time since the previous one, not empty
    from airflow.timetables.interval import CronDataIntervalTimetable as Scheduled

    day = dt.datetime(2026, 11, 22, 0, 0, tzinfo=dt.UTC)
    interval = Scheduled(cron, "UTC").infer_manual_data_interval(run_after=day)
    assert interval.start < interval.end <= day


def test_manual_task_has_no_schedule_and_paused_task_starts_paused() -> None:
    dag = compile_task(bundle_of(demo_record(schedule=None, state="paused")))
    assert type(dag.timetable).__name__ == "NullTimetable"
    assert dag.is_paused_upon_creation is True


def test_bundle_token_survives_jinja_untouched() -> None:
    bundle = bundle_of(demo_record())
    token = encode(bundle)
    assert "{{" not in token and "{%" not in token
    assert decode(token) == bundle
    extraction = next(s for s in decode(token)["scripts"] if s["role"] == "extraction")
    assert extraction["spec"]["connection_id"] == "etlx_demo"


def test_bad_slug_is_refused() -> None:
    with pytest.raises(CompileError, match="not a valid DAG id"):
        dag_id_for("Bad-Slug")


def test_broken_task_is_isolated() -> None:
    records = [
        demo_record("one"),
        demo_record("bad_cron", schedule="61 * * * *"),
        demo_record("two"),
        demo_record("BAD SLUG"),
    ]
    result = compile_all(records)
    assert sorted(result.dags) == ["etlx__one", "etlx__two"]
    assert set(result.errors) == {"bad_cron", "BAD SLUG"}
    assert "61 * * * *" in result.errors["bad_cron"]


def test_unreachable_database_gives_no_dags() -> None:
    def loader() -> tuple[None, list[object]]:
        raise OSError("connection refused")

    assert build_dags(loader) == {}


def test_n_tasks_give_n_dags() -> None:
    records = [demo_record(f"task_{i}") for i in range(12)]
    dags = build_dags(lambda: (None, records))
    assert sorted(dags) == sorted(f"etlx__task_{i}" for i in range(12))

"""One task bundle → one Airflow DAG `etlx__<slug>` (Task SDK), validated, not registered.

Stage tasks: extract → field_rules (mapped over chunks) → transform → anonymize (mapped) →
load_outbox, or for a task with `execution: streamed` one `process` task that streams every
chunk through all stages (etl_express.stages.streamed); then the teardown `cleanup`, which
runs whatever the outcome once every stage task is done. Their bodies are thin: they call
`stage_calls`, which imports the engine lazily.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from airflow.sdk import DAG, Param, get_current_context, task

from etl_express.compiler import stage_calls
from etl_express.compiler.bundle import encode
from etl_express.compiler.doc import doc_md

DAG_PREFIX: Final = "etlx__"
SLUG_RE: Final = re.compile(r"^[a-z0-9_]{1,60}$")
# Runs never backfill: the first scheduled run is the next one after the DAG appears.
START_DATE: Final = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DEFAULT_ARGS: Final[dict[str, Any]] = {
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
}


class CompileError(ValueError):
    """A task cannot become a DAG; the message is shown on the task in ETL-Express."""


def dag_id_for(slug: str) -> str:
    if not SLUG_RE.match(slug):
        raise CompileError(f"slug {slug!r} is not a valid DAG id part ([a-z0-9_], 1-60)")
    return DAG_PREFIX + slug


def timetable(schedule: str | None) -> Any:
    """A cron schedule (or preset) as a data-interval timetable: each scheduled run covers the
    time since the previous one, which is what an incremental extraction reads. Airflow 3
    turns a bare cron string into a trigger timetable whose runs have an empty interval, so
    a daily run would extract nothing. Manual runs (no logical date) have no interval and
    read everything."""
    if schedule is None or schedule == "@once":
        return schedule
    from airflow.sdk import CronDataIntervalTimetable

    return CronDataIntervalTimetable(schedule, timezone="UTC")


def _extract(token: str) -> Any:
    return stage_calls.call("extract", token, stage_calls.run_info(get_current_context()))


def _field_rules(token: str, chunk: dict[str, Any]) -> Any:
    run = stage_calls.run_info(get_current_context())
    return stage_calls.call("field_rules", token, run, chunk)


def _transform(token: str, chunks: Any) -> Any:
    run = stage_calls.run_info(get_current_context())
    return stage_calls.call("transform", token, run, list(chunks))


def _anonymize(token: str, chunk: dict[str, Any]) -> Any:
    run = stage_calls.run_info(get_current_context())
    return stage_calls.call("anonymize", token, run, chunk)


def _load_outbox(token: str, chunks: Any) -> Any:
    run = stage_calls.run_info(get_current_context())
    return stage_calls.call("load_outbox", token, run, list(chunks))


def _process(token: str) -> Any:
    return stage_calls.call("process", token, stage_calls.run_info(get_current_context()))


def _cleanup(token: str) -> Any:
    return stage_calls.call("cleanup", token, stage_calls.run_info(get_current_context()))


def _params(bundle: dict[str, Any]) -> dict[str, Param]:
    return {
        name: Param(value, description="Task parameter (ETL-Express task spec)")
        for name, value in bundle["task"]["params"].items()
    }


def _tags(bundle: dict[str, Any]) -> list[str]:
    task_info = bundle["task"]
    tags = ["etl-express", f"owner:{task_info['owner']}"[:100], *task_info["tags"]]
    return list(dict.fromkeys(tags))


def compile_task(bundle: dict[str, Any]) -> DAG:
    """Build and validate the DAG of one task; raises on any problem (caller isolates it)."""
    info = bundle["task"]
    token = encode(bundle)
    with DAG(
        dag_id=dag_id_for(info["slug"]),
        description=(info["description"] or info["name"])[:200],
        schedule=timetable(info["schedule"]),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=_tags(bundle),
        doc_md=doc_md(bundle),
        params=_params(bundle),
        default_args={**DEFAULT_ARGS, "owner": info["owner"]},
        is_paused_upon_creation=info["state"] != "active",
        auto_register=False,
    ) as dag:
        # A teardown is left out of the run's state (the last stage stays the leaf that
        # decides it) and runs once all its upstreams are done, failed or not.
        cleanup = task(task_id="cleanup")(_cleanup)(token).as_teardown()
        if info.get("execution") == "streamed":
            task(task_id="process")(_process)(token) >> cleanup
        else:
            _mapped_stages(token) >> cleanup
    dag.validate()
    return dag


def _mapped_stages(token: str) -> list[Any]:
    """The stage tasks, chunks mapped; all of them feed the teardown, not only the last: a
    failed chunk fails load_outbox at once while sibling chunks may still be writing to
    staging."""
    chunks = task(task_id="extract")(_extract)(token)
    cleaned = task(task_id="field_rules")(_field_rules).partial(token=token).expand(chunk=chunks)
    shaped = task(task_id="transform")(_transform)(token, cleaned)
    hidden = task(task_id="anonymize")(_anonymize).partial(token=token).expand(chunk=shaped)
    loaded = task(task_id="load_outbox")(_load_outbox)(token, hidden)
    return [chunks, cleaned, shaped, hidden, loaded]

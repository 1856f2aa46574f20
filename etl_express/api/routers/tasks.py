"""ETL tasks: list and search, create, update, validate, delete; trigger, pause, unpause, runs.

Bodies of create/update/validate are the task spec itself (``{"name", "owner", "schedule",
"scripts": {...}, ...}``), so field paths (``$.scripts.upload``) point into the body as sent.
Pause, unpause and trigger go to Airflow's REST API as the calling user (see airflow_client)
and are audited with that user as actor.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from etl_express.api.airflow_client import AirflowApi
from etl_express.api.auth import AdminUser, CurrentUser, actor_name
from etl_express.api.context import AirflowContext
from etl_express.api.deps import EngineDep
from etl_express.errors import Conflict, NotFound
from etl_express.registry import tasks as registry
from etl_express.spec import dump_spec
from etl_express.stores import runs as run_store
from etl_express.stores.audit import Actor, audited
from etl_express.stores.records import RunRecord, TaskRecord

router = APIRouter(prefix="/tasks", tags=["tasks"])

TaskBody = Annotated[dict[str, Any], Body(description="The task spec (see POST /tasks/validate)")]


class ValidationResult(BaseModel):
    valid: bool
    dag_id: str
    spec: dict[str, Any]


class TriggerBody(BaseModel):
    conf: dict[str, Any] = Field(default_factory=dict, description="DAG run conf")


class Triggered(BaseModel):
    dag_id: str
    dag_run_id: str
    state: str | None = None


class TaskRuns(BaseModel):
    dag_id: str
    runs: list[RunRecord] = Field(description="Runs as recorded by ETL-Express stages")
    dag_runs: list[dict[str, Any]] = Field(description="Airflow's DAG runs, newest first")
    dag_error: str | None = Field(None, description="Why Airflow has no DAG for this task yet")
    dag_paused: bool | None = Field(None, description="Whether the DAG is paused in Airflow")


@router.get("", response_model=list[TaskRecord], summary="List and search tasks")
def list_tasks(
    engine: EngineDep,
    state: Literal["draft", "active", "paused"] | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TaskRecord]:
    return registry.list_tasks(engine, state=state, q=q, limit=limit, offset=offset)


@router.post(
    "", response_model=TaskRecord, status_code=status.HTTP_201_CREATED, summary="Create a task"
)
def create_task(payload: TaskBody, engine: EngineDep, user: CurrentUser) -> TaskRecord:
    return registry.save_task(engine, payload, actor_name(user), ctx=AirflowContext(user))


@router.post("/validate", response_model=ValidationResult, summary="Validate; writes nothing")
def validate_task(payload: TaskBody, engine: EngineDep, user: CurrentUser) -> ValidationResult:
    spec = registry.validate_task(engine, payload, AirflowContext(user))
    return ValidationResult(valid=True, dag_id=spec.dag_id, spec=dump_spec(spec))


@router.get("/{slug}", response_model=TaskRecord)
def get_task(slug: str, engine: EngineDep) -> TaskRecord:
    return registry.get_task(engine, slug)


@router.put("/{slug}", response_model=TaskRecord, summary="Update a task")
def update_task(
    slug: str,
    payload: TaskBody,
    engine: EngineDep,
    user: CurrentUser,
    expected_revision: Annotated[
        int | None, Query(ge=1, description="Refuse (409) if someone saved meanwhile")
    ] = None,
) -> TaskRecord:
    return registry.save_task(
        engine,
        payload,
        actor_name(user),
        slug=slug,
        expected_revision=expected_revision,
        ctx=AirflowContext(user),
    )


@router.delete(
    "/{slug}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a task (admin only)"
)
def delete_task(slug: str, engine: EngineDep, user: AdminUser) -> Response:
    registry.delete_task(engine, slug, actor_name(user))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _live_task(engine: EngineDep, slug: str) -> TaskRecord:
    task = registry.get_task(engine, slug)
    if task.state == "draft":
        raise Conflict(f"task {slug!r} is a draft and has no DAG; fix it and save it first")
    return task


@router.post("/{slug}/pause", response_model=TaskRecord, summary="Pause the task's DAG")
async def pause_task(
    slug: str, request: Request, engine: EngineDep, user: CurrentUser
) -> TaskRecord:
    task = await run_in_threadpool(_live_task, engine, slug)
    await AirflowApi(request).set_paused(task.dag_id, True)
    return await run_in_threadpool(registry.set_state, engine, slug, "paused", actor_name(user))


@router.post("/{slug}/unpause", response_model=TaskRecord, summary="Unpause the task's DAG")
async def unpause_task(
    slug: str, request: Request, engine: EngineDep, user: CurrentUser
) -> TaskRecord:
    task = await run_in_threadpool(_live_task, engine, slug)
    await AirflowApi(request).set_paused(task.dag_id, False)
    return await run_in_threadpool(registry.set_state, engine, slug, "active", actor_name(user))


def _audit_trigger(engine: EngineDep, actor: str, task: TaskRecord, run: dict[str, Any]) -> None:
    with audited(engine, Actor(actor)) as tx:
        tx.record(
            "task.trigger",
            "task",
            task.slug,
            details={"dag_id": task.dag_id, "dag_run_id": run.get("dag_run_id")},
        )


def _runs_of(engine: EngineDep, slug: str, limit: int) -> tuple[TaskRecord, list[RunRecord]]:
    task = registry.get_task(engine, slug)
    with engine.connect() as conn:
        return task, run_store.list_runs(conn, task_id=task.id, limit=limit)


@router.post(
    "/{slug}/trigger",
    response_model=Triggered,
    status_code=status.HTTP_201_CREATED,
    summary="Start a run now (an active task's DAG is unpaused first so the run can start)",
)
async def trigger_task(
    slug: str,
    request: Request,
    engine: EngineDep,
    user: CurrentUser,
    body: TriggerBody | None = None,
) -> Triggered:
    task = await run_in_threadpool(_live_task, engine, slug)
    airflow = AirflowApi(request)
    if task.state == "active":
        # New DAGs start paused in Airflow; an active task is meant to run.
        await airflow.set_paused(task.dag_id, False)
    run = await airflow.trigger(task.dag_id, (body or TriggerBody()).conf)
    await run_in_threadpool(_audit_trigger, engine, actor_name(user), task, run)
    return Triggered(dag_id=task.dag_id, dag_run_id=str(run["dag_run_id"]), state=run.get("state"))


@router.get("/{slug}/runs", response_model=TaskRuns, summary="Recent runs of the task")
async def task_runs(
    slug: str,
    request: Request,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> TaskRuns:
    task, runs = await run_in_threadpool(_runs_of, engine, slug, limit)
    result = TaskRuns(dag_id=task.dag_id, runs=runs, dag_runs=[], dag_error=task.dag_error)
    if task.state != "draft":
        airflow = AirflowApi(request)
        try:
            result.dag_paused = bool((await airflow.dag(task.dag_id)).get("is_paused"))
            result.dag_runs = await airflow.dag_runs(task.dag_id, limit)
        except NotFound as exc:
            result.dag_error = result.dag_error or str(exc)
    return result

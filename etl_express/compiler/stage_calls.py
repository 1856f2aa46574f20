"""The one place where DAG stage tasks meet the processing engine (etl_express.stages).

Each stage task of a compiled DAG calls one function here with JSON-safe arguments; this module
imports the engine lazily (in the worker, at run time, never at DAG parse) and calls its entry
point of the same name in `etl_express.stages.entry`. The call shape, binding for both sides:

    run    = {"dag_id", "dag_run_id", "task_id", "task_slug", "map_index",
              "data_interval_start", "data_interval_end", "logical_date",   # ISO 8601 or None
              "params": {...}, "try_number"}
    bundle = compiler.bundle dict: {"task": {...}, "scripts": [pinned script dicts]}
    chunk  = a small JSON dict the engine returns per chunk, e.g. {"chunk": 3, "rows": 100000}

    entry.extract(run, bundle) -> list[chunk]                  one per staged chunk (≥ 1)
    entry.field_rules(run, bundle, chunk) -> chunk             mapped over extract's chunks
    entry.transform(run, bundle, chunks) -> list[chunk]        identity without a transformation;
                                                               plans a row-wise one
    entry.anonymize(run, bundle, chunk) -> chunk               mapped over transform's chunks;
                                                               runs a planned transformation,
                                                               loads its rows into the outbox
    entry.load_outbox(run, bundle, chunks) -> dict             loads what is left (quarantine,
                                                               empty chunks), publishes the batch
    entry.process(run, bundle, progress) -> dict               a streamed task's one task: all
                                                               stages over every chunk, then
                                                               publishes (as load_outbox)
    entry.cleanup(run, bundle) -> dict                         teardown: runs whatever the
                                                               outcome; idempotent

Nothing large passes through here: data lives in the staging store keyed by run and chunk.
Each call is tracked on the task's run row (etl_express.stages.tracking): rows per stage while
the run goes, and the stage, chunk and message of a failure (`cleanup` never overwrites it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Final

from etl_express.compiler.bundle import decode

ENTRY_MODULE: Final = "etl_express.stages.entry"
STAGES: Final = (
    "extract",
    "field_rules",
    "transform",
    "anonymize",
    "load_outbox",
    "process",
    "cleanup",
)


def entry_point(stage: str) -> Callable[..., Any]:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    module = importlib.import_module(ENTRY_MODULE)
    func: Callable[..., Any] = getattr(module, stage)
    return func


def run_info(context: Any) -> dict[str, Any]:
    """The `run` dict from an Airflow task context (a mapping as given by get_current_context)."""
    ti = context["ti"]
    dag_run = context["dag_run"]

    def iso(name: str) -> str | None:
        value = context.get(name)
        return value.isoformat() if value is not None else None

    return {
        "dag_id": ti.dag_id,
        "dag_run_id": dag_run.run_id,
        "task_id": ti.task_id,
        "map_index": getattr(ti, "map_index", -1),
        "try_number": getattr(ti, "try_number", 1),
        "data_interval_start": iso("data_interval_start"),
        "data_interval_end": iso("data_interval_end"),
        "logical_date": iso("logical_date"),
        "params": dict(context.get("params") or {}),
    }


def call(stage: str, token: str, run: dict[str, Any], *args: Any) -> Any:
    from etl_express.stages.tracking import tracked

    bundle = decode(token)
    run = {**run, "task_slug": bundle["task"]["slug"]}
    with tracked(stage, run, bundle, inputs=args) as note:
        if stage == "process":  # one task for every stage: it reports each chunk's progress
            from etl_express.stages.tracking import chunk_progress

            result = entry_point(stage)(run, bundle, chunk_progress(run, bundle))
        else:
            result = entry_point(stage)(run, bundle, *args)
        note(result)
    return result

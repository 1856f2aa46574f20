"""What the DAG file runs on every parse: load active tasks, compile each in isolation.

Never raises: an unreachable database means no DAGs this parse (logged), a broken task means
no DAG for that task only, with its error stored on the task for the ETL-Express UI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from etl_express.compiler.bundle import bundle_of

log = logging.getLogger(__name__)


@dataclass
class CompileResult:
    dags: dict[str, Any] = field(default_factory=dict)  # dag_id → DAG
    errors: dict[str, str] = field(default_factory=dict)  # task slug → message


def compile_all(records: Iterable[Any]) -> CompileResult:
    from etl_express.compiler.build import compile_task

    result = CompileResult()
    for record in records:
        try:
            dag = compile_task(bundle_of(record))
        except Exception as err:  # one broken task must never hide the others
            message = f"{type(err).__name__}: {err}".strip()[:2000]
            log.warning("ETL-Express task %r has no DAG: %s", record.slug, message)
            result.errors[record.slug] = message
            continue
        result.dags[dag.dag_id] = dag
    return result


def _report(engine: Any, records: list[Any], errors: dict[str, str]) -> None:
    from etl_express.registry.tasks import set_dag_error

    for record in records:
        error = errors.get(record.slug)
        if error == record.dag_error:
            continue  # the registry would also skip it; saves a transaction per task per parse
        try:
            set_dag_error(engine, record.slug, error)
        except Exception:
            log.warning("could not store the DAG error of task %r", record.slug, exc_info=True)


def build_dags(loader: Callable[[], tuple[Any, list[Any]]] | None = None) -> dict[str, Any]:
    """dag_id → DAG for every active or paused task; {} when our database is unreachable."""
    try:
        engine, records = (loader or _load_from_registry)()
    except Exception:
        log.exception("ETL-Express: cannot load tasks from its database; no DAGs this parse")
        return {}
    result = compile_all(records)
    if engine is not None:
        _report(engine, records, result.errors)
    return result.dags


def _load_from_registry() -> tuple[Any, list[Any]]:
    from etl_express.registry.tasks import load_active_bundles
    from etl_express.stores.db import make_engine

    engine = make_engine()
    return engine, list(load_active_bundles(engine))

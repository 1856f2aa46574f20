"""Stage entry points called by the compiled DAG (see etl_express.compiler.stage_calls).

Arguments are JSON-safe: `run` (ids, data interval, params), `bundle` (the task with its
pinned script specs) and small chunk dicts; data stays in the staging store. Airflow is
imported only where a connection must be resolved, inside the worker.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from etl_express.stages import runner
from etl_express.stages.adapter import field_rules_config
from etl_express.stages.errors import SafeMessageError, stage_errors
from etl_express.stages.transform import Dedupe
from etl_express.stages.transform_mode import chunkwise_input
from etl_express.staging.store import StagingStore

if TYPE_CHECKING:
    from etl_express.anonymize.keys import KeyRing

Chunk = dict[str, Any]
# A streamed run's note after each stage of each chunk: (stage, chunk, counts).
Progress = Callable[[str, int, dict[str, int]], None]
LOAD_CONNECTIONS = 2


def _scripts(bundle: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [s for s in bundle["scripts"] if s["role"] == role]


def _ctx(run: dict[str, Any]) -> runner.RunContext:
    return runner.RunContext(staging_store(), f"{run['dag_id']}/{run['dag_run_id']}")


def staging_store() -> StagingStore:
    """The run's staging: ``ETLX_STAGING_URL`` (e.g. ``s3://bucket/prefix``) with credentials
    from the Airflow connection ``ETLX_STAGING_CONN_ID`` when set (else
    ``ETLX_STAGING_OPTIONS``), or the local staging directory."""
    conn_id = os.environ.get("ETLX_STAGING_CONN_ID")
    return StagingStore.from_settings(_storage_options(conn_id) if conn_id else None)


def connection_url(conn_id: str) -> str:
    """URI of an Airflow connection (``AIRFLOW_CONN_<ID>`` first: no Airflow import needed)."""
    env = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if env and "://" in env:
        return env
    from airflow.sdk import BaseHook

    uri: str = BaseHook.get_connection(conn_id).get_uri()
    return uri


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _template_values(run: dict[str, Any], bundle: dict[str, Any]) -> dict[str, Any]:
    start, end = _when(run.get("data_interval_start")), _when(run.get("data_interval_end"))
    logical = _when(run.get("logical_date")) or start
    values: dict[str, Any] = {
        "data_interval_start": start,
        "data_interval_end": end,
        "logical_date": logical,
        "ds": logical.date() if logical else None,
        "ts": logical.isoformat() if logical else None,
        "ts_nodash": logical.strftime("%Y%m%dT%H%M%S") if logical else None,
        "params": {**(bundle["task"].get("params") or {}), **(run.get("params") or {})},
    }
    return values


def source_config(spec: dict[str, Any], run: dict[str, Any], bundle: dict[str, Any]) -> Any:
    from etl_express.sources.base import IncrementalWindow
    from etl_express.sources.csv import CsvSourceConfig
    from etl_express.sources.mysql import MySqlSourceConfig
    from etl_express.sources.parquet import ParquetSourceConfig
    from etl_express.sources.postgres import PostgresSourceConfig
    from etl_express.sources.templates import render_mysql, render_postgres

    kind, chunk_rows = spec["source"], int(spec.get("chunk_size", 100_000))
    window = None
    if spec.get("incremental_column"):
        start, end = _when(run.get("data_interval_start")), _when(run.get("data_interval_end"))
        window = IncrementalWindow(spec["incremental_column"], start, end)
    timeout = int(spec.get("statement_timeout_s", 300))
    values = _template_values(run, bundle)
    if kind == "postgres":
        query, settings = render_postgres(spec["query"], values)
        url = connection_url(spec["connection_id"])
        return PostgresSourceConfig(url, query, chunk_rows, timeout, window, tuple(settings))
    if kind == "mysql":
        url = connection_url(spec["connection_id"]).replace("mariadb://", "mysql://", 1)
        query = render_mysql(spec["query"], values)
        return MySqlSourceConfig(url, query, chunk_rows, timeout, window)
    options = _storage_options(spec.get("connection_id"))
    if kind == "csv":
        csv = spec.get("csv") or {}
        return CsvSourceConfig(
            spec["path"], chunk_rows, csv.get("delimiter", ","), csv.get("encoding", "utf8"),
            tuple(csv.get("null_values") or ("",)), options,
        )  # fmt: skip
    return ParquetSourceConfig(spec["path"], chunk_rows, storage_options=options)


def _storage_options(conn_id: str | None) -> dict[str, Any]:
    """fsspec/s3fs options from an Airflow AWS-style connection (login/password/extra)."""
    if not conn_id:
        return {}
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson or {}
    options: dict[str, Any] = {"key": conn.login, "secret": conn.password}
    client: dict[str, Any] = {}
    endpoint = extra.get("endpoint_url") or extra.get("host")
    if endpoint:
        client["endpoint_url"] = endpoint
    if extra.get("region_name"):
        client["region_name"] = extra["region_name"]
    if client:
        options["client_kwargs"] = client
    return options


def extract(run: dict[str, Any], bundle: dict[str, Any]) -> list[Chunk]:
    from etl_express.sources import open_source
    from etl_express.stages.extract import extract_to_staging

    ctx = _ctx(run)
    chunks: list[Chunk] = []
    for script in _scripts(bundle, "extraction"):
        name = script.get("input_name") or "source"
        with stage_errors("extract", None):
            source = open_source(source_config(script["spec"], run, bundle))
        stage = f"extract.{name}"
        result = extract_to_staging(source, ctx.store, ctx.run_id, stage=stage)
        chunks += [{"input": name, "chunk": i, "stage": stage, "rows": n}
                   for i, n in enumerate(result.chunk_rows)]  # fmt: skip
    return chunks


def field_rules(run: dict[str, Any], bundle: dict[str, Any], chunk: Chunk) -> Chunk:
    ctx = _ctx(run)
    index, name = int(chunk["chunk"]), chunk["input"]
    with stage_errors("field_rules", index):
        columns = set(ctx.store.read_schema(ctx.run_id, chunk["stage"], index).names)
        scripts = _scripts(bundle, "field_rules")
        spec = scripts[0]["spec"] if scripts else {}
        config = field_rules_config(spec, columns)
    target = f"field_rules.{name}"
    stats = runner.field_rules_chunk(ctx, index, config, source=chunk["stage"], target=target)
    return {"input": name, "chunk": index, "stage": target, "rows": stats["rows_out"],
            "quarantined": stats["rows_quarantined"]}  # fmt: skip


def _dedupe(bundle: dict[str, Any], names: set[str]) -> dict[str, Dedupe]:
    scripts = _scripts(bundle, "field_rules")
    dedupe = (scripts[0]["spec"].get("dedupe") or {}) if scripts else {}
    if not dedupe.get("keys"):
        return {}
    rule = Dedupe(tuple(dedupe["keys"]), dedupe.get("keep", "first"))
    return {name: rule for name in names}


def _python_code(spec: dict[str, Any]) -> str:
    """The code of a Python transformation, if this server still allows running it."""
    from etl_express.settings import get_settings

    if not get_settings().allow_python_transforms:
        raise SafeMessageError(
            "python transformations are disabled on this server "
            "(ETLX_ALLOW_PYTHON_TRANSFORMS); the task cannot run its transformation"
        )
    return str(spec["code"])


def transform(run: dict[str, Any], bundle: dict[str, Any], chunks: list[Chunk]) -> list[Chunk]:
    """The transformation over all chunks; also where dedupe crosses chunk boundaries.

    A row-wise SQL transformation of one input is only planned here and runs inside each
    anonymize chunk (its chunks say `"transform": <input>`); anything else runs here."""
    ctx = _ctx(run)
    scripts = _scripts(bundle, "transformation")
    stages = {c["input"]: c["stage"] for c in chunks}
    dedupe = _dedupe(bundle, set(stages))
    if not scripts:
        if len(stages) > 1:
            raise SafeMessageError("several extractions need a transformation to combine them")
        if not dedupe:
            return [{"chunk": int(c["chunk"]), "stage": c["stage"]} for c in chunks]
        sql, inputs = f"SELECT * FROM {next(iter(stages))}", stages
    else:
        spec = scripts[0]["spec"]
        sql = spec.get("sql") or ""
        inputs = {
            i["name"]: stages.get(i["name"], f"field_rules.{i['name']}") for i in spec["inputs"]
        }
    python = bool(scripts) and scripts[0]["spec"].get("language", "sql") == "python"
    name = None if python else chunkwise_input(sql, inputs)
    if name is not None:
        planned = runner.plan_chunkwise(ctx, sql, name, inputs[name], dedupe.get(name))
        return [{"chunk": i, "stage": inputs[name], "transform": name} for i in planned]
    chunk_rows = max(
        [int(s["spec"].get("chunk_size", 100_000)) for s in _scripts(bundle, "extraction")]
        or [100_000]
    )
    if python:
        code = _python_code(scripts[0]["spec"])
        count = runner.transform_python(ctx, code, inputs, chunk_rows, dedupe)
    else:
        count = runner.transform_whole(ctx, sql, inputs, chunk_rows, dedupe)
    return [{"chunk": i, "stage": runner.TRANSFORM} for i in range(count)]


def _chunkwise(bundle: dict[str, Any], chunk: Chunk) -> runner.ChunkwiseTransform | None:
    """The planned row-wise transformation an anonymize chunk applies first (see transform)."""
    name = chunk.get("transform")
    if not name:
        return None
    scripts = _scripts(bundle, "transformation")
    sql = (scripts[0]["spec"].get("sql") or "") if scripts else f"SELECT * FROM {name}"
    return runner.ChunkwiseTransform(sql, str(name), str(chunk["stage"]))


def pseudonym_keys() -> KeyRing:
    """The key ring of pseudonyms and fakes: ``ETLX_PSEUDONYM_KEY`` when set, else the
    Airflow connection that holds it."""
    from etl_express.anonymize.keys import keyring_from_airflow, keyring_from_env

    return keyring_from_env() if os.environ.get("ETLX_PSEUDONYM_KEY") else keyring_from_airflow()


def anonymize(run: dict[str, Any], bundle: dict[str, Any], chunk: Chunk) -> Chunk:
    from etl_express.anonymize.rules import parse_rules

    index = int(chunk["chunk"])
    with stage_errors("anonymize", index):
        rules = parse_rules(_scripts(bundle, "anonymization")[0]["spec"])
        keys = pseudonym_keys()
    plan = _chunkwise(bundle, chunk)
    stats = runner.anonymize_chunk(
        _ctx(run), index, rules, keys, source=chunk["stage"], transform=plan,
        outbox=_outbox(run, bundle),
        quasi_identifiers=tuple(bundle["task"].get("quasi_identifiers") or ()),
    )  # fmt: skip
    done: Chunk = {"chunk": index, "stage": runner.ANONYMIZE,
                   "gate_passed": stats["gate"]["passed"], "rows": int(stats["stats"]["rows"]),
                   "loaded": bool(stats.get("loaded"))}  # fmt: skip
    if plan is not None:
        done["transform"] = plan.input_name
    return done


def _outbox(run: dict[str, Any], bundle: dict[str, Any]) -> runner.Outbox | None:
    """The outbox an anonymize chunk loads into (None without a database: load_outbox then
    reports that)."""
    from etl_express.settings import get_settings
    from etl_express.stages.batch import batch_for_run

    url = get_settings().database_url
    if not url:
        return None
    task_id = int(bundle["task"]["id"])
    return runner.Outbox(url, lambda: batch_for_run(
        url, task_id=task_id, dag_id=run["dag_id"], dag_run_id=run["dag_run_id"]))  # fmt: skip


def load_outbox(run: dict[str, Any], bundle: dict[str, Any], chunks: list[Chunk]) -> dict[str, Any]:
    from etl_express.settings import get_settings
    from etl_express.stages.batch import batch_for_run

    url = get_settings().database_url
    if not url:
        raise SafeMessageError("ETLX_DATABASE_URL is not set: the outbox has no database")
    ctx = _ctx(run)
    task = bundle["task"]
    # Chunks with rows were loaded by their anonymize task; the rest are staged.
    pending = [c for c in chunks if not c.get("loaded")]
    rows = sum(int(c["rows"]) for c in chunks if c.get("loaded")) + sum(
        ctx.store.rows(ctx.run_id, c["stage"], int(c["chunk"])) for c in pending
    )
    inputs = [s.get("input_name") or "source" for s in _scripts(bundle, "extraction")]
    quarantine = runner.quarantine_parts(ctx, inputs)
    if not rows and not any(p.rows for p in quarantine):
        # A run with nothing new (an incremental window without rows) leaves nothing to
        # review: no batch, and the run succeeds with zero rows. Quarantined rows alone still
        # make a batch (of 0 rows), so that they can be inspected.
        ctx.store.cleanup(ctx.run_id)
        return {"batch_id": None, "table_name": None, "state": "empty", "row_count": 0}
    batch_id = batch_for_run(url, task_id=int(task["id"]), dag_id=run["dag_id"],
                             dag_run_id=run["dag_run_id"])  # fmt: skip
    # The database does the work of a load (COPY parsing, WAL): two connections keep two of
    # its cores busy (1M bench rows: 2.0 s one at a time). Chunk loads are idempotent and
    # locked per chunk, so their order does not matter; the first failure stops the stage.
    with ThreadPoolExecutor(LOAD_CONNECTIONS) as pool:
        list(pool.map(lambda c: runner.load_chunk(ctx, int(c["chunk"]), url, batch_id,
                                                  source=c["stage"]), pending))  # fmt: skip
    # Loaded hidden and published by finalize with the batch (see stages.quarantine).
    runner.load_quarantine(ctx, url, batch_id, quarantine)
    quasi = tuple(task.get("quasi_identifiers") or ())
    done = runner.finalize(ctx, url, batch_id, expected_chunks=len(chunks), quasi_identifiers=quasi)
    ctx.store.cleanup(ctx.run_id)
    return {"batch_id": done.batch_id, "table_name": done.table_name, "state": done.state,
            "row_count": done.row_count}  # fmt: skip


def process(
    run: dict[str, Any], bundle: dict[str, Any], progress: Progress | None = None
) -> dict[str, Any]:
    """A streamed task's run: every stage over every chunk as it is read (see
    etl_express.stages.streamed); returns what `load_outbox` returns."""
    from etl_express.stages.streamed import run_streamed

    return run_streamed(run, bundle, progress=progress)


def cleanup(run: dict[str, Any], bundle: dict[str, Any]) -> dict[str, Any]:
    """Run-end teardown, success or failure; idempotent (nothing left to do is no error).

    A batch the run never published becomes `failed` (audited) and its hidden loading table is
    dropped; the run's staging is removed. The outbox comes first: it is what reviewers see.
    """
    from etl_express.settings import get_settings
    from etl_express.stages.batch import end_run_batches
    from etl_express.stages.outbox import discard_loading

    url = get_settings().database_url
    ended = None
    if url:
        ended = end_run_batches(url, dag_id=run["dag_id"], dag_run_id=run["dag_run_id"])
        for batch_id in ended.unpublished:
            discard_loading(url, batch_id)
    ctx = _ctx(run)
    ctx.store.cleanup(ctx.run_id)
    return {
        "discarded": ended.unpublished if ended else [],
        "failed": ended.failed if ended else [],
        "published": bool(ended and ended.published),
    }

"""Scale beyond one machine: the same ETL task under the Celery executor gives the same outbox.

One real Airflow 3.3 instance runs two executors, ``CeleryExecutor,LocalExecutor``: a Redis
broker (its own database number, emptied before and after), two ``airflow celery worker``
processes each with a local disk of its own, Celery results in PostgreSQL, and stage data
staged on S3 (moto). Two ETL tasks are saved in the registry with the same scripts (the demo
customers task over 6,000 customers, extraction in 1,000-row chunks); a cluster policy sends
every task instance of one of them to the LocalExecutor. Both are triggered through the REST
API; the test checks that the mapped chunks of the Celery run ran on both workers, that its
stage data went through the S3 bucket (versioned, so the removed run prefix still shows what
was written) and that both runs published the same outbox table.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from airflow_server import AirflowServer, CeleryOptions, running_airflow
from pg_databases import create_database, drop_database
from s3_server import s3_client

from etl_express.staging.store import safe_key

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "include" / "scripts" / "demo"
REDIS_URL = os.environ.get("ETLX_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
BUCKET = "etlx-staging"
PREFIX = "runs"
CHUNK_ROWS = 1000  # the smallest chunk an extraction allows
EXTRA_CUSTOMERS = 1000  # copies with new ids next to the demo's 5,000: 6 chunks
ON_CELERY, ON_LOCAL = "on_celery", "on_local"
MAPPED = ("field_rules", "anonymize")

LOCAL_SETTINGS = f'''\
"""Cluster policy of this test: every task of the DAG etlx__{ON_LOCAL} runs on LocalExecutor."""


def task_policy(task):
    if task.dag_id == "etlx__{ON_LOCAL}":
        if hasattr(task, "partial_kwargs"):  # a mapped task: executor is a partial argument
            task.partial_kwargs["executor"] = "LocalExecutor"
        else:
            task.executor = "LocalExecutor"
'''


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_URL} (ETLX_TEST_REDIS_URL) does not answer: {exc}")
    client.flushdb()  # this database number only: queues left by an interrupted run
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def staging(moto_s3: dict[str, Any]) -> dict[str, Any]:
    s3 = s3_client(moto_s3)
    s3.create_bucket(Bucket=BUCKET)
    # Versioned: after the run's prefix is removed, its versions still show what was staged.
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return moto_s3


@pytest.fixture(scope="module")
def celery_airflow(
    pg_server_url: str, broker: str, staging: dict[str, Any]
) -> Iterator[AirflowServer]:
    started = time.monotonic()
    with running_airflow(
        pg_server_url,
        create_database,
        drop_database,
        celery=CeleryOptions(broker, workers=2, executors="CeleryExecutor,LocalExecutor"),
        extra_env={
            "ETLX_STAGING_URL": f"s3://{BUCKET}/{PREFIX}",
            # credentials from an Airflow connection, as a deployment would keep them
            "ETLX_STAGING_CONN_ID": "etlx_staging",
            "AIRFLOW_CONN_ETLX_STAGING": json.dumps(
                {
                    "conn_type": "aws",
                    "login": staging["key"],
                    "password": staging["secret"],
                    "extra": {"endpoint_url": staging["client_kwargs"]["endpoint_url"]},
                }
            ),
        },
        local_settings=LOCAL_SETTINGS,
    ) as server:
        print(f"\nAirflow with two Celery workers up in {time.monotonic() - started:.0f} s")
        yield server


def _more_customers(server: AirflowServer) -> int:
    with psycopg.connect(server.demo_database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customers SELECT id + 1000000, full_name, email, phone, birth_date, inn, "
            "snils, city, address, comment, lang, balance, created_at, updated_at FROM customers "
            "ORDER BY id LIMIT %s",
            (EXTRA_CUSTOMERS,),
        )
        count = conn.execute("SELECT count(*) FROM customers").fetchone()
    assert count is not None
    return int(count[0])


def _save_tasks(server: AirflowServer) -> None:
    """The demo scripts (extraction without its incremental window, in small chunks; comment
    detection by patterns) and two identical tasks using them."""
    from etl_express.registry import scripts, tasks
    from etl_express.stores.db import make_engine

    docs = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(DEMO.glob("*.yaml"))]
    engine = make_engine(server.etlx_database_url)
    try:
        for doc in (d for d in docs if d["kind"] != "task"):
            spec = copy.deepcopy(doc["spec"])
            if doc["kind"] == "extraction":
                spec.pop("incremental_column", None)
                spec["chunk_size"] = CHUNK_ROWS
            if doc["kind"] == "anonymization":
                # Pattern recognizers only: the NER models cost ~6 s a chunk and detection is
                # not what this test is about (it runs the same code on either executor).
                for rule in spec.get("text_columns", {}).values():
                    rule["mode"] = "patterns"
            scripts.save_script(
                engine, kind=doc["kind"], name=doc["name"], spec=spec, actor="tester"
            )
        demo_task = next(d for d in docs if d["kind"] == "task")["spec"]
        for slug in (ON_CELERY, ON_LOCAL):
            payload = {**copy.deepcopy(demo_task), "name": f"Customers {slug}", "slug": slug}
            payload["schedule"] = None
            tasks.save_task(engine, payload, "tester")
    finally:
        engine.dispose()


def _wait_for_dag(client: httpx.Client, dag_id: str, server: AirflowServer) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if client.get(f"/api/v2/dags/{dag_id}").status_code == 200:
            return
        time.sleep(1)
    pytest.fail(f"{dag_id} never appeared; dag-processor log:\n{server.log('dag-processor')}")


def _trigger(client: httpx.Client, dag_id: str) -> str:
    client.patch(
        f"/api/v2/dags/{dag_id}", params={"update_mask": "is_paused"}, json={"is_paused": False}
    ).raise_for_status()
    response = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None})
    response.raise_for_status()
    return str(response.json()["dag_run_id"])


def _wait_for_runs(
    server: AirflowServer, runs: dict[str, str], timeout: float = 420
) -> dict[str, str]:
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.client() as client:  # a fresh token: runs may outlast one
            for dag_id, run_id in runs.items():
                response = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
                response.raise_for_status()
                states[dag_id] = response.json()["state"]
        if all(state in ("success", "failed") for state in states.values()):
            return states
        time.sleep(2)
    return states


def _task_instances(client: httpx.Client, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100}
    )
    response.raise_for_status()
    return list(response.json()["task_instances"])


def _outbox(url: str, dag_id: str) -> tuple[str, list[tuple[str, str]], list[tuple[Any, ...]]]:
    """(batch state, [(column, type)], rows sorted) of the batch the DAG's run published."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        state, table = conn.execute(
            "SELECT b.state, b.table_name FROM outbox_batches b "
            "JOIN task_runs r ON r.id = b.run_id WHERE r.dag_id = %s",
            (dag_id,),
        ).fetchone()  # type: ignore[misc]
        columns = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'outbox' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        rows = conn.execute(f'SELECT * FROM outbox."{table}" ORDER BY 1').fetchall()
    return state, [(c, t) for c, t in columns], sorted(rows, key=repr)


def _staged_keys(options: dict[str, Any], dag_id: str, run_id: str) -> tuple[list[str], int]:
    """Every object version written under the run's staging prefix, and how many are still
    current (not deleted)."""
    prefix = f"{PREFIX}/{safe_key(f'{dag_id}/{run_id}')}/"
    pages = s3_client(options).get_paginator("list_object_versions")
    written, current = [], 0
    for page in pages.paginate(Bucket=BUCKET, Prefix=prefix):
        for version in page.get("Versions", []):
            written.append(version["Key"].removeprefix(prefix))
        current += sum(1 for v in page.get("Versions", []) if v["IsLatest"])
    return written, current


def _diagnostics(server: AirflowServer) -> str:
    parts = ["scheduler", *(w.component for w in server.workers)]
    return "\n".join(f"--- {name}\n{server.log(name)}" for name in parts)


def test_celery_run_spreads_chunks_over_two_workers_and_matches_local_executor(
    celery_airflow: AirflowServer, staging: dict[str, Any]
) -> None:
    server = celery_airflow
    chunks = -(-_more_customers(server) // CHUNK_ROWS)
    assert chunks == 6
    _save_tasks(server)
    dag_celery, dag_local = f"etlx__{ON_CELERY}", f"etlx__{ON_LOCAL}"
    started = time.monotonic()
    with server.client() as client:
        for dag_id in (dag_celery, dag_local):
            _wait_for_dag(client, dag_id, server)
        runs = {dag_id: _trigger(client, dag_id) for dag_id in (dag_celery, dag_local)}
    states = _wait_for_runs(server, runs)
    elapsed = time.monotonic() - started
    assert states == {dag_celery: "success", dag_local: "success"}, _diagnostics(server)

    with server.client() as client:
        celery_tis = _task_instances(client, dag_celery, runs[dag_celery])
        local_tis = _task_instances(client, dag_local, runs[dag_local])
    workers = {w.name for w in server.workers}
    # Each task instance ran on a Celery worker; the mapped stages on both of them.
    assert {ti["hostname"] for ti in celery_tis} <= workers
    per_worker = {
        stage: Counter(ti["hostname"] for ti in celery_tis if ti["task_id"] == stage)
        for stage in MAPPED
    }
    assert sum(per_worker["field_rules"].values()) == chunks
    for stage in MAPPED:
        assert set(per_worker[stage]) == workers, per_worker
    # An anonymize chunk on the other worker than transform read what transform staged: the
    # workers' own disks stayed empty, so it came through S3.
    transform_host = next(ti["hostname"] for ti in celery_tis if ti["task_id"] == "transform")
    assert workers - {transform_host} <= set(per_worker["anonymize"])
    for worker in server.workers:
        disk = server.state.root / "disks" / worker.name / "staging"
        assert not disk.exists() or not any(disk.rglob("*.parquet")), worker.name
    # The LocalExecutor side ran on the scheduler's machine, not on a worker.
    assert {ti["executor"] for ti in local_tis} == {"LocalExecutor"}
    assert not {ti["hostname"] for ti in local_tis} & workers

    written, current = _staged_keys(staging, dag_celery, runs[dag_celery])
    stages = Counter(key.split("/", 1)[0] for key in set(written) if key.endswith(".parquet"))
    assert stages["extract.customers"] == chunks == stages["field_rules.customers"], stages
    # An anonymize chunk loads its rows straight into the outbox: it stages its stats (and
    # the load's), not its rows.
    stats = Counter(key.split("/", 1)[0] for key in set(written) if key.endswith(".json"))
    anonymized = sum(per_worker["anonymize"].values())
    assert stats["anonymize"] == anonymized == stats["load_outbox"] == chunks, stats
    assert stages["anonymize"] == 0, stages
    assert current == 0, "the run's staging prefix must be removed when the run ends"

    celery_outbox = _outbox(server.etlx_database_url, dag_celery)
    local_outbox = _outbox(server.etlx_database_url, dag_local)
    assert celery_outbox[0] in ("ready_for_review", "blocked")
    assert celery_outbox[1] == local_outbox[1]  # same columns, same PostgreSQL types
    assert len(celery_outbox[2]) > 0.9 * chunks * CHUNK_ROWS
    email = [name for name, _ in celery_outbox[1]].index("email")
    assert all(row[email] is None or row[email].startswith("em_") for row in celery_outbox[2])
    assert celery_outbox == local_outbox
    print(
        f"\ncelery+local runs: {elapsed:.0f} s; chunks per worker: "
        + "; ".join(f"{s} {dict(c)}" for s, c in per_worker.items())
        + f"; staged objects on S3: {dict(stages)}; outbox rows: {len(celery_outbox[2])}"
    )

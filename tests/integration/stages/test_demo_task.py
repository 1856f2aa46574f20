"""The demo task end to end on the stage engine: what a user runs first after `make up`.

The demo source (etl_express.runtime.demo) is loaded into a throwaway database, the demo
scripts and task (include/scripts/demo) are applied as `make up` applies them, and the stage
entry points run the way the compiled DAG calls them, from the source to the outbox. The batch
must be reviewable, keep the phone column, and hold no original personal value: checked by the
gate's report and, independently, against the source rows. The task is @daily and incremental,
so a scheduled run must find the previous day's customers in the data the demo loads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pyarrow as pa
import pytest
from pg_databases import create_database, drop_database

from etl_express.runtime.demo import CUSTOMERS, load_demo
from etl_express.settings import reset_settings_cache
from etl_express.stages import entry
from etl_express.staging.store import StagingStore

DEMO_DIR = Path(__file__).resolve().parents[3] / "include" / "scripts" / "demo"
PERSONAL = ("full_name", "email", "phone", "inn", "snils", "address")
# Every demo phone is a valid Russian or US number; a few may still fail on format one day.
MAX_PHONE_NULL_SHARE = 0.02
MIN_SUBSTRING = 6


@pytest.fixture(scope="module")
def demo_source(pg_server_url: str) -> Iterator[str]:
    url = create_database(pg_server_url, "etlx_demo_source")
    try:
        load_demo(url)
        yield url
    finally:
        drop_database(pg_server_url, url)


@pytest.fixture
def demo_bundle(
    etlx_db: str, demo_source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    from etl_express.compiler.bundle import bundle_of
    from etl_express.configio.apply import apply
    from etl_express.configio.documents import load_documents
    from etl_express.registry.tasks import get_task
    from etl_express.stores.audit import Actor
    from etl_express.stores.db import make_engine

    monkeypatch.setenv("ETLX_DATABASE_URL", etlx_db)
    monkeypatch.setenv("ETLX_STAGING_DIR", str(tmp_path / "staging"))
    monkeypatch.delenv("ETLX_STAGING_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_ETLX_DEMO", demo_source)
    monkeypatch.setenv("ETLX_PSEUDONYM_KEY", "demo-test-key-" + "k" * 24)
    reset_settings_cache()
    engine = make_engine(etlx_db)
    try:
        apply(engine, load_documents([DEMO_DIR]), Actor("make-up", "system"))
        yield bundle_of(get_task(engine, "demo_customers"))
    finally:
        engine.dispose()
        reset_settings_cache()


def _run(bundle: dict[str, Any]) -> dict[str, Any]:
    # A manual run: no data interval, so the incremental extraction reads every row.
    run = {"dag_id": "etlx__demo_customers", "dag_run_id": "manual__first", "task_id": "x",
           "map_index": -1, "data_interval_start": None, "data_interval_end": None,
           "logical_date": None, "params": {}}  # fmt: skip
    chunks = entry.extract(run, bundle)
    cleaned = [entry.field_rules(run, bundle, c) for c in chunks]
    assert sum(c["quarantined"] for c in cleaned) == 0
    shaped = entry.transform(run, bundle, cleaned)
    anonymized = [entry.anonymize(run, bundle, c) for c in shaped]
    return entry.load_outbox(run, bundle, anonymized)


def _extracted(
    bundle: dict[str, Any], start: dt.datetime | None, end: dt.datetime | None
) -> pl.DataFrame:
    run_id = f"scheduled__{start.isoformat()}" if start else "manual__all"
    run = {"dag_id": "etlx__demo_customers", "dag_run_id": run_id, "task_id": "extract",
           "map_index": -1, "data_interval_start": start.isoformat() if start else None,
           "data_interval_end": end.isoformat() if end else None,
           "logical_date": start.isoformat() if start else None, "params": {}}  # fmt: skip
    chunks = entry.extract(run, bundle)
    store = StagingStore.from_settings()
    tables = [store.read(f"etlx__demo_customers/{run_id}", c["stage"], c["chunk"]) for c in chunks]
    return pl.DataFrame(pa.concat_tables(tables))


def test_a_scheduled_daily_run_extracts_the_previous_days_customers(
    demo_bundle: dict[str, Any], demo_source: str
) -> None:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)
    with psycopg.connect(demo_source) as conn:
        in_source = conn.execute(
            "SELECT count(*) FROM customers WHERE created_at >= %s AND created_at < %s",
            (yesterday, today),
        ).fetchone()
    assert in_source is not None

    daily = _extracted(demo_bundle, yesterday, today)
    assert daily.height > 0 and daily.height == in_source[0]
    outside = daily.filter(~pl.col("created_at").is_between(yesterday, today, closed="left"))
    assert outside.height == 0, outside["created_at"]
    assert daily["id"].n_unique() == daily.height

    # A manual run has no interval and still reads every customer.
    assert _extracted(demo_bundle, None, None).height == CUSTOMERS


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


def test_demo_task_gives_a_reviewable_batch_with_nothing_personal(
    demo_bundle: dict[str, Any], etlx_db: str, demo_source: str
) -> None:
    result = _run(demo_bundle)
    with psycopg.connect(etlx_db.replace("+psycopg", "")) as conn:
        state, report = conn.execute(
            "SELECT state, privacy_report FROM outbox_batches WHERE id = %s", (result["batch_id"],)
        ).fetchone()  # type: ignore[misc]
        out = pl.read_database(f"SELECT * FROM outbox.{result['table_name']}", conn)
    with psycopg.connect(demo_source) as conn:
        source = pl.read_database(f"SELECT {', '.join(PERSONAL)} FROM customers", conn)

    assert (result["state"], state) == ("ready_for_review", "ready_for_review"), report["gate"]
    assert result["row_count"] == out.height == CUSTOMERS
    assert report["gate"]["passed"] is True and report["gate"]["reasons"] == []
    entities = report["columns"]["comment"]
    assert entities["operator"] == "detect" and entities["changed"] > CUSTOMERS // 2

    # Phones of both countries survive normalization, then are masked to the last two digits.
    phones = out["phone"]
    assert phones.null_count() / out.height <= MAX_PHONE_NULL_SHARE
    assert phones.drop_nulls().str.contains(r"^\+\*+\d\d$").all()
    assert set(out["country"].unique()) == {"RU", "US"}

    # Independently of the gate: no original personal value is a cell of the batch...
    cells = pl.concat([out.select(_norm(pl.col(c)).alias("v")) for c in out.columns])["v"]
    cells = cells.drop_nulls().unique().implode()
    for column in PERSONAL:
        originals = source.select(_norm(pl.col(column)).alias("v"))["v"].drop_nulls()
        assert not originals.is_in(cells).any(), column
    # ...nor inside a comment (the demo writes customers' own names and phones into them).
    needles = pl.concat([source[c] for c in PERSONAL]).drop_nulls().unique()
    needles = needles.filter(needles.str.len_chars() >= MIN_SUBSTRING).to_list()
    comments = out["comment"].drop_nulls()
    leaked = comments.str.contains_any(needles, ascii_case_insensitive=True)
    assert not leaked.any(), f"{int(leaked.sum())} comment(s) hold an original personal value"

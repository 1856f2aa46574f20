"""A streamed run on real PostgreSQL gives what the mapped stages give, fails the same way
(stage and chunk named, no row data, nothing visible) and retries cleanly."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from etl_express.stages import streamed
from etl_express.stages.errors import StageError
from tests.integration.stages.test_stage_entry import (
    HIDDEN,
    _task,
    bundle,
    outbox_state,
    run_all,
    run_info,
)


@pytest.fixture(scope="module")
def source_url(pg_database: str) -> str:
    """People with repeated ids across chunk boundaries (and null ids, equal to each other
    for the dedupe), and rows the field rules quarantine (no e-mail)."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS people CASCADE")
        conn.execute(
            "CREATE TABLE people (id bigint, full_name text, email text, phone text, "
            "birth_date date, inn text, city text, amount numeric(12,2), updated_at timestamptz)"
        )
        conn.execute(
            "INSERT INTO people SELECT CASE WHEN g % 500 = 0 THEN NULL ELSE g % 2000 END, "
            "' Иван ' || g, CASE WHEN g % 97 = 0 THEN NULL ELSE ' USER' || g || '@Example.com' "
            "END, '8 916 ' || lpad(g::text, 7, '0'), DATE '1980-01-01' + g, "
            "lpad((g * 7919)::text, 10, '0'), CASE WHEN g % 2 = 0 THEN 'moscow' ELSE 'kazan' "
            "END, g * 1.5, TIMESTAMPTZ '2024-01-01 00:00:00+00' + make_interval(mins => g) "
            "FROM generate_series(1, 2600) g ORDER BY g"
        )
    return pg_database


def expected_rows() -> int:
    """What the bundle keeps of `people`, worked out here row by row."""
    seen: set[int | None] = set()
    kept = 0
    for g in range(1, 2601):
        key = None if g % 500 == 0 else g % 2000
        if g % 97 == 0 or key in seen:  # quarantined (no e-mail) or a repeated id
            continue
        seen.add(key)
        kept += g * 1.5 > 3
    return kept


def _rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return sorted(
            conn.execute(f"SELECT * FROM outbox.{table}").fetchall(), key=lambda r: repr(r)
        )


def _report(url: str, batch_id: int) -> dict[str, Any]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT privacy_report, row_count, schema FROM outbox_batches WHERE id = %s",
            (batch_id,),
        ).fetchone()
    assert row is not None
    return {"report": row[0], "rows": row[1], "schema": row[2]}


def _comparable(batch: dict[str, Any]) -> dict[str, Any]:
    """A batch's report, counts and schema minus what differs between any two batches (the
    name of its quarantine table)."""
    out = copy.deepcopy(batch)
    out["report"]["quarantine"].pop("table")
    return out


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_streamed_run_gives_the_mapped_runs_batch(env: str, workers: int) -> None:
    task_id = _task(env)
    mapped = run_all(run_info(f"manual__mapped{workers}"), bundle(task_id))
    done = streamed.run_streamed(run_info(f"manual__streamed{workers}"), bundle(task_id), workers)
    assert done["state"] == mapped["state"] == "ready_for_review"
    # rows without e-mail quarantined, then the first row of each id (nulls one key), then
    # amount > 3 (see `expected_rows`)
    assert done["row_count"] == mapped["row_count"] == expected_rows()
    assert _rows(env, done["table_name"]) == _rows(env, mapped["table_name"])
    streamed_batch, mapped_batch = _report(env, done["batch_id"]), _report(env, mapped["batch_id"])
    assert _comparable(streamed_batch) == _comparable(mapped_batch)
    assert streamed_batch["report"]["quarantine"]["rows"] == 26  # 2600 // 97 without e-mail
    staging = Path(os.environ["ETLX_STAGING_DIR"])
    assert not staging.exists() or list(staging.iterdir()) == []


def test_a_window_without_rows_makes_no_batch(env: str) -> None:
    run = {**run_info("scheduled__empty"), "data_interval_end": "2000-01-01T00:00:00+00:00"}
    done = streamed.run_streamed(run, bundle(_task(env)))
    assert done == {"batch_id": None, "table_name": None, "state": "empty", "row_count": 0}
    assert outbox_state(env) == []


def _anonymize_fails_on_chunk_1(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make anonymization raise on chunk 1 (ids from 1000), with row data in its message;
    returns the real function."""
    from etl_express.stages import anonymize

    real = anonymize.anonymize_chunk

    def fails(frame: Any, *args: Any, **kwargs: Any) -> Any:
        if frame.height and frame["id"].min() is not None and frame["id"].min() >= 1000:
            raise ValueError("secret value Иван 1500 (injected)")
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(anonymize, "anonymize_chunk", fails)
    return real


def test_a_failing_chunk_fails_the_run_with_nothing_visible_and_a_retry_is_clean(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = _task(env)
    run = run_info("manual__fails")
    from etl_express.stages import anonymize

    real = _anonymize_fails_on_chunk_1(monkeypatch)
    with pytest.raises(StageError) as failed:
        streamed.run_streamed(run, bundle(task_id), 2)
    assert (failed.value.stage, failed.value.chunk) == ("anonymize", 1)
    assert "Иван" not in str(failed.value) and "1500" not in str(failed.value)
    # Nothing visible: no batch, or (when chunk 0 was loaded before the failure) one still
    # processing, without a table.
    assert [(s, t) for s, t, _ in outbox_state(env)] in ([], [("processing", None)])
    monkeypatch.setattr(anonymize, "anonymize_chunk", real)
    done = streamed.run_streamed(run, bundle(task_id), 2)  # the task's retry
    assert (done["state"], done["row_count"]) == ("ready_for_review", expected_rows())
    assert outbox_state(env) == [("ready_for_review", done["table_name"], expected_rows())]
    with psycopg.connect(env.replace("+psycopg", "")) as conn:
        assert conn.execute(HIDDEN).fetchone() == (0,)


def test_a_failing_load_fails_the_run_with_nothing_visible_and_a_retry_is_clean(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are loaded on a thread of their own while the workers go on: a load that
    fails there stops the run all the same, naming the load stage and its chunk."""
    from etl_express.stages import outbox

    real = outbox.load_chunk
    loaded: list[int] = []

    def fails_on_chunk_2(url: str, batch_id: int, chunk: int, data: Any) -> int:
        if chunk == 2:
            raise RuntimeError("disk full")
        loaded.append(chunk)
        return real(url, batch_id, chunk, data)

    task_id = _task(env)
    run = run_info("manual__load_fails")
    monkeypatch.setattr(outbox, "load_chunk", fails_on_chunk_2)
    with pytest.raises(StageError) as failed:
        streamed.run_streamed(run, bundle(task_id), 2)
    assert (failed.value.stage, failed.value.chunk) == ("load_outbox", 2)
    assert failed.value.message.startswith("RuntimeError") and 2 not in loaded
    assert [(s, t) for s, t, _ in outbox_state(env)] == [("processing", None)]
    loaders: set[int] = set()

    def recorded(url: str, batch_id: int, chunk: int, data: Any) -> int:
        loaders.add(threading.get_ident())
        return real(url, batch_id, chunk, data)

    monkeypatch.setattr(outbox, "load_chunk", recorded)
    done = streamed.run_streamed(run, bundle(task_id), 2)
    assert (done["state"], done["row_count"]) == ("ready_for_review", expected_rows())
    assert len(loaders) == 1  # one COPY at a time, from the loader, with two workers
    with psycopg.connect(env.replace("+psycopg", "")) as conn:
        assert conn.execute(HIDDEN).fetchone() == (0,)


def test_a_source_that_fails_mid_stream_names_the_chunk(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl_express.sources import postgres

    real = postgres.PostgresSource.batches

    def breaks(self: Any) -> Iterator[Any]:
        for i, batch in enumerate(real(self)):
            if i == 2:
                raise postgres.SourceError("PostgreSQL source failed: connection lost")
            yield batch

    monkeypatch.setattr(postgres.PostgresSource, "batches", breaks)
    with pytest.raises(StageError) as failed:
        streamed.run_streamed(run_info("manual__source"), bundle(_task(env)), 2)
    assert (failed.value.stage, failed.value.chunk) == ("extract", 2)
    assert "connection lost" in failed.value.message
    assert all(t is None for _, t, _ in outbox_state(env))


def test_tasks_that_cannot_stream_say_why(env: str) -> None:
    task_id = _task(env)
    assert streamed.not_streamable(bundle(task_id)) is None
    last = bundle(task_id)
    last["scripts"][1]["spec"]["dedupe"]["keep"] = "last"
    assert "last row" in (streamed.not_streamable(last) or "")
    grouped = bundle(task_id)
    grouped["scripts"][2]["spec"]["sql"] = "SELECT city, count(*) AS n FROM source GROUP BY city"
    assert "row-wise" in (streamed.not_streamable(grouped) or "")
    python = bundle(task_id)
    python["scripts"][2]["spec"] = {"language": "python", "code": "x", "inputs": []}
    assert "Python" in (streamed.not_streamable(python) or "")
    with pytest.raises(Exception, match="cannot run streamed: its dedupe keeps the last row"):
        streamed.run_streamed(run_info("manual__last"), last)

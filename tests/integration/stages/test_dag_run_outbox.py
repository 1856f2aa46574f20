"""A compiled DAG runs from source to outbox in Airflow (`dag.test()`, real stage engine).

Extract, mapped field rules, transform, mapped anonymize and load run as Airflow task
instances over a real PostgreSQL source; the batch lands in the outbox ready for review.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
from stage_fixtures import create_people, insert_task

ROOT = Path(__file__).resolve().parents[3]

RUN = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {bench!r})
    from airflow_path import bench_bundle, run_dag
    bundle = bench_bundle({task_id}, "bench_dag", "SELECT * FROM people", 1000, {execution!r})
    state, seconds = run_dag(bundle, {source!r}, {outbox!r})
    print("STATE", state)
    """
)


@pytest.mark.parametrize("execution", ["mapped", "streamed"])
def test_dag_run_from_source_to_outbox(
    pg_database: str, etlx_db: str, tmp_path: Path, execution: str
) -> None:
    create_people(pg_database)
    task_id = insert_task(etlx_db, f"bench_dag_{execution}")
    code = RUN.format(bench=str(ROOT / "bench"), task_id=task_id, source=pg_database,
                      outbox=etlx_db, execution=execution)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "ETLX_"))}
    env["ETLX_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert "STATE success" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    with psycopg.connect(etlx_db.replace("+psycopg", "")) as conn:
        state, table, rows = conn.execute(
            "SELECT state, table_name, row_count FROM outbox_batches WHERE task_id = %s "
            "AND run_id IS NOT NULL",
            (task_id,),
        ).fetchone()  # type: ignore[misc]
        run_state, stats = conn.execute(
            "SELECT state, stats FROM task_runs WHERE task_id = %s", (task_id,)
        ).fetchone()  # type: ignore[misc]
        sample = conn.execute(
            f"SELECT city, email, phone FROM outbox.{table} WHERE id = 5"
        ).fetchone()
    assert state in ("ready_for_review", "blocked") and rows == 2500
    assert sample is not None and sample[0] == "Kazan" and "@" not in sample[1]
    assert sample[2].endswith("05")
    # the run row the UI reads: every stage's rows, in one task or in many
    assert run_state == "success", stats
    assert stats["field_rules"]["rows_out"] == stats["load_outbox"]["rows_out"] == 2500
    assert stats["anonymize"]["chunks"] == 3

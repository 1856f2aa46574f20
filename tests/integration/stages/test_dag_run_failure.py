"""A failing run cleans up after itself (`dag.test()`, real stage engine, real PostgreSQL).

Three runs of the compiled DAG: one fails while publishing its batch (a quasi-identifier the
output lacks), one fails in anonymize (no pseudonym key); the `cleanup` teardown runs after
both, yet both runs stay failed. Then the first run is retried, fixed, under the same run id
and publishes a new batch. In the end: the failed batch is `failed` (audited, system actor),
no hidden or visible table of it is left, every run's staging is gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psycopg
from stage_fixtures import create_people, insert_task

ROOT = Path(__file__).resolve().parents[3]

RUNS = textwrap.dedent(
    """
    import copy, datetime as dt, json, os, runpy, sys
    from pathlib import Path
    sys.path.insert(0, {bench!r})
    import sqlalchemy as sa
    from airflow.utils import db
    from airflow_path import bench_bundle

    home, staging = Path(os.environ["AIRFLOW_HOME"]), Path(os.environ["ETLX_STAGING_DIR"])
    db.resetdb()
    (home / "dags" / "failing.py").write_text(
        "import json\\n"
        "from etl_express.compiler import build\\n"
        "build.DEFAULT_ARGS['retries'] = 0  # a failure ends the run at once\\n"
        f"dag = build.compile_task(json.load(open({{str(home / 'bundle.json')!r}})))\\n"
    )
    engine = sa.create_engine(os.environ["ETLX_DATABASE_URL"])
    good = bench_bundle({task_id}, "failing", "SELECT * FROM people", 1000)
    bad_qi = copy.deepcopy(good)
    bad_qi["task"]["quasi_identifiers"] = ["city", "no_such_column"]

    def run(bundle, day, key):
        if key:
            os.environ["ETLX_PSEUDONYM_KEY"] = key
        else:
            os.environ.pop("ETLX_PSEUDONYM_KEY", None)
        (home / "bundle.json").write_text(json.dumps(bundle))
        dag = runpy.run_path(str(home / "dags" / "failing.py"))["dag"]
        when = dt.datetime(2026, 1, day, tzinfo=dt.UTC)
        dr = dag.test(logical_date=when, run_after=when)  # same day: same run id (a retry)
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT state, error FROM task_runs WHERE dag_run_id = :r"),
                {{"r": dr.run_id}},
            ).one()
        return {{
            "run_id": dr.run_id,
            "state": str(dr.state),
            "tasks": {{f"{{t.task_id}}[{{t.map_index}}]": str(t.state)
                      for t in dr.get_task_instances()}},
            "staged": sorted(str(p.relative_to(staging)) for p in staging.rglob("*")
                             if p.is_file()) if staging.exists() else [],
            "tracked": {{"state": row.state, "error": row.error}},
        }}

    out = {{
        "publish_fails": run(bad_qi, 1, "bench-key-0123456789abcdef"),
        "no_key": run(good, 2, None),
        "retry_fixed": run(good, 1, "bench-key-0123456789abcdef"),
    }}
    print("RESULT", json.dumps(out))
    """
)


def _run_all(pg_database: str, etlx_db: str, tmp_path: Path) -> dict[str, Any]:
    create_people(pg_database)
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "ETLX_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW_CONN_ETLX_BENCH_SRC": pg_database,
            "ETLX_HOME": str(tmp_path),
            "ETLX_DATABASE_URL": etlx_db,
            "ETLX_STAGING_DIR": str(tmp_path / "staging"),
            "OPENBLAS_NUM_THREADS": "1",
        }
    )
    code = RUNS.format(bench=str(ROOT / "bench"), task_id=insert_task(etlx_db, "failing"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, Any] = json.loads(line[7:])
    return result


def test_failed_runs_clean_up_and_a_fixed_retry_publishes(
    pg_database: str, etlx_db: str, tmp_path: Path
) -> None:
    runs = _run_all(pg_database, etlx_db, tmp_path)
    publish_fails, no_key, retry = runs["publish_fails"], runs["no_key"], runs["retry_fixed"]

    # The cleanup teardown ran and succeeded, yet each run stays failed, as its row says.
    assert publish_fails["state"] == "failed", publish_fails["tasks"]
    assert publish_fails["tasks"]["load_outbox[-1]"] == "failed"
    assert publish_fails["tasks"]["cleanup[-1]"] == "success"
    assert publish_fails["tracked"]["state"] == "failed"
    assert publish_fails["tracked"]["error"]["stage"] == "finalize"
    assert no_key["state"] == "failed", no_key["tasks"]
    assert no_key["tasks"]["anonymize[0]"] == "failed"
    assert no_key["tasks"]["load_outbox[-1]"] == "upstream_failed"
    assert no_key["tasks"]["cleanup[-1]"] == "success"
    assert no_key["tracked"]["state"] == "failed"
    assert no_key["tracked"]["error"]["stage"] == "anonymize"
    # Staging is removed after a failure as after success (the retry's run id included).
    assert publish_fails["staged"] == [] and no_key["staged"] == [] and retry["staged"] == []

    assert retry["run_id"] == publish_fails["run_id"], "the same run, retried"
    assert retry["state"] == "success", retry["tasks"]
    assert retry["tracked"] == {"state": "success", "error": None}

    with psycopg.connect(etlx_db.replace("+psycopg", "")) as conn:
        batches = conn.execute(
            "SELECT b.id, b.state, b.table_name, r.dag_run_id FROM outbox_batches b "
            "JOIN task_runs r ON r.id = b.run_id ORDER BY b.id"
        ).fetchall()
        tables = {
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'outbox'")
        }
        ledger = conn.execute("SELECT count(*) FROM outbox._etlx_chunk_loads").fetchone()
        events = conn.execute(
            "SELECT actor, actor_kind, object_id, before, details FROM audit_events "
            "WHERE action = 'batch.failed'"
        ).fetchall()
    # The anonymize failure never reached the outbox: no batch for it, nothing to fail.
    [(failed_id, failed_state, failed_table, failed_run), (ok_id, ok_state, ok_table, ok_run)] = (
        batches
    )
    assert (failed_state, failed_table, failed_run) == ("failed", None, publish_fails["run_id"])
    assert ok_run == publish_fails["run_id"] and ok_id > failed_id  # the retry's new batch
    assert ok_state in ("ready_for_review", "blocked") and ok_table == f"batch_{ok_id}"
    assert tables == {f"batch_{ok_id}", "_etlx_chunk_loads"}  # no hidden table, no failed one
    assert ledger == (0,)
    [(actor, kind, object_id, before, details)] = events
    assert (actor, kind, object_id) == ("etl-express", "system", str(failed_id))
    assert before == {"state": "processing"} and "published" in details["reason"]

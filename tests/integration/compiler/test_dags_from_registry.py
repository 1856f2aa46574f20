"""Tasks saved in the real registry become DAGs when Airflow's DagBag parses the real dags/."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from etl_express.registry import scripts, tasks

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "include" / "scripts" / "demo"

PARSE = textwrap.dedent(
    """
    import json, time
    from airflow.dag_processing.dagbag import DagBag
    started = time.perf_counter()
    bag = DagBag(dag_folder={folder!r})
    print(json.dumps({{"dags": sorted(bag.dag_ids), "errors": bag.import_errors,
                       "seconds": time.perf_counter() - started,
                       "tasks": {{d: sorted(bag.dags[d].task_ids) for d in bag.dag_ids}}}}))
    """
)


def _demo() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    docs = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(DEMO.glob("*.yaml"))]
    task = next(d for d in docs if d["kind"] == "task")["spec"]
    return [d for d in docs if d["kind"] != "task"], task


def _parse_dags(db_url: str, home: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "ETLX_DATABASE_URL": db_url,
            "ETLX_HOME": str(home / "etlx"),
        }
    )
    code = PARSE.format(folder=str(ROOT / "dags"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_active_tasks_become_dags_and_a_broken_one_is_reported(
    etlx_engine: sa.Engine, etlx_db: str, tmp_path: Path
) -> None:
    docs, demo_task = _demo()
    for doc in docs:
        scripts.save_script(
            etlx_engine, kind=doc["kind"], name=doc["name"], spec=doc["spec"], actor="alice"
        )
    tasks.save_task(etlx_engine, copy.deepcopy(demo_task), "alice")
    for slug in ("second", "broken"):
        other = {**copy.deepcopy(demo_task), "name": f"Task {slug}", "slug": slug}
        tasks.save_task(etlx_engine, other, "alice")
    paused = {**copy.deepcopy(demo_task), "name": "Paused one", "slug": "paused_one"}
    tasks.save_task(etlx_engine, paused, "alice", state="paused")
    draft = {**copy.deepcopy(demo_task), "name": "Draft one", "slug": "draft_one"}
    tasks.save_task(etlx_engine, draft, "alice", state="draft")
    # A row that no longer compiles (e.g. saved under older rules): it must hide nothing else.
    with etlx_engine.begin() as conn:
        conn.execute(sa.text("UPDATE etl_tasks SET schedule = '61 * * * *' WHERE slug = 'broken'"))

    result = _parse_dags(etlx_db, tmp_path)

    assert result["errors"] == {}
    assert result["dags"] == ["etlx__demo_customers", "etlx__paused_one", "etlx__second"]
    assert result["tasks"]["etlx__demo_customers"] == sorted(
        ["extract", "field_rules", "transform", "anonymize", "load_outbox", "cleanup"]
    )
    broken = tasks.get_task(etlx_engine, "broken")
    assert broken.dag_error is not None and "61 * * * *" in broken.dag_error
    assert tasks.get_task(etlx_engine, "demo_customers").dag_error is None

    # Fixing the row clears the stored error on the next parse.
    with etlx_engine.begin() as conn:
        conn.execute(sa.text("UPDATE etl_tasks SET schedule = '@daily' WHERE slug = 'broken'"))
    result = _parse_dags(etlx_db, tmp_path)
    assert "etlx__broken" in result["dags"]
    assert tasks.get_task(etlx_engine, "broken").dag_error is None
    print(f"DagBag parse of {len(result['dags'])} task DAGs: {result['seconds']:.2f} s")

"""Airflow's own DagBag parses a folder whose DAG file compiles tasks through the loader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from records import ROOT, demo_record, record_as_json

DAG_FILE = """
# Airflow DAG file (the words let DagBag's safe-mode heuristic read it)
import json
from pathlib import Path
from types import SimpleNamespace

from etl_express.compiler.loader import build_dags


def _records():
    rows = json.loads((Path(__file__).parent / "tasks.json").read_text())
    for row in rows:
        row["scripts"] = [SimpleNamespace(**s) for s in row["scripts"]]
    return None, [SimpleNamespace(**row) for row in rows]


globals().update(build_dags(_records))
"""


def test_dagbag_has_one_dag_per_task_and_isolates_a_broken_one(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    records = [demo_record(f"task_{i}") for i in range(5)]
    records.insert(2, demo_record("broken", schedule="* * * * * * * *"))
    (tmp_path / "tasks.json").write_text(json.dumps([record_as_json(r) for r in records]))
    (tmp_path / "etl_express_dags.py").write_text(DAG_FILE)

    bag = DagBag(dag_folder=str(tmp_path))

    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(f"etlx__task_{i}" for i in range(5))
    assert len(bag.dags["etlx__task_3"].tasks) == 6  # five stages and the cleanup teardown


def test_dag_file_without_database_parses_to_nothing_and_stays_light(tmp_path: Path) -> None:
    """The real dags/ file: our DB unreachable → no DAGs, no import error, no heavy imports."""
    script = textwrap.dedent(
        f"""
        import json, runpy, sys
        namespace = runpy.run_path({str(ROOT / "dags" / "etl_express_dags.py")!r})
        dags = [k for k in namespace if k.startswith("etlx__")]
        heavy = sorted(
            m for m in sys.modules
            if m.split(".")[0] in {{"great_expectations", "presidio_analyzer",
                                   "presidio_anonymizer", "spacy", "natasha", "polars",
                                   "duckdb", "pandas", "psycopg2", "adbc_driver_manager"}}
        )
        print(json.dumps({{"dags": dags, "heavy": sorted({{m.split(".")[0] for m in heavy}})}}))
        """
    )
    env = {
        **os.environ,
        "ETLX_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "ETLX_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"dags": [], "heavy": []}, result
    assert "cannot load tasks from its database" in done.stderr

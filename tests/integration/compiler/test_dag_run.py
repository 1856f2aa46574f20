"""A compiled DAG really runs in Airflow (dag.test on a throwaway metadata DB).

The stage entry module is swapped for one that records its calls, so this test checks the
compiler's side of the contract (run info, bundle, chunk fan-out through mapped tasks); the
engine's own DAG run test, source to outbox, lives with the stages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

RECORDING_ENTRY = textwrap.dedent(
    """
    import json, os

    def _log(stage, run, bundle, arg=None):
        with open(os.environ["ETLX_TEST_CALLS"], "a") as fh:
            fh.write(json.dumps({"stage": stage, "run": run, "arg": arg,
                                 "slug": bundle["task"]["slug"],
                                 "roles": [s["role"] for s in bundle["scripts"]]}) + "\\n")

    def extract(run, bundle):
        _log("extract", run, bundle)
        return [{"chunk": i, "rows": 10} for i in range(3)]

    def field_rules(run, bundle, chunk):
        _log("field_rules", run, bundle, chunk)
        return {**chunk, "clean": True}

    def transform(run, bundle, chunks):
        _log("transform", run, bundle, chunks)
        return [{"chunk": 0, "rows": 20}, {"chunk": 1, "rows": 10}]

    def anonymize(run, bundle, chunk):
        _log("anonymize", run, bundle, chunk)
        if os.environ.get("ETLX_TEST_FAIL") == "anonymize" and chunk["chunk"] == 0:
            raise RuntimeError("injected failure")
        return chunk

    def load_outbox(run, bundle, chunks):
        _log("load_outbox", run, bundle, chunks)
        return {"rows": sum(c["rows"] for c in chunks)}

    def cleanup(run, bundle):
        _log("cleanup", run, bundle)
        return {"discarded": [], "failed": [], "published": False}
    """
)

DAG_FILE = textwrap.dedent(
    """
    # Airflow DAG file for the test: the compiled demo DAG, stages recorded
    import sys
    sys.path[:0] = [{tests!r}, {tmp!r}]
    from etl_express.compiler import build, stage_calls
    stage_calls.ENTRY_MODULE = "recording_entry"
    build.DEFAULT_ARGS["retries"] = 0  # a failure ends the run at once (no 30 s retry delay)
    from etl_express.compiler.build import compile_task
    from etl_express.compiler.bundle import bundle_of
    from records import demo_record
    dag = compile_task(bundle_of(demo_record("run_me")))
    """
)

RUN = textwrap.dedent(
    """
    import json, runpy
    from airflow.utils import db
    db.resetdb()
    dag = runpy.run_path({dag_file!r})["dag"]
    run = dag.test(run_conf={{"full_refresh": True}})
    print("STATE", run.state)
    print("TASKS", json.dumps(sorted((ti.task_id, ti.map_index, str(ti.state))
                                     for ti in run.get_task_instances())))
    """
)


def _run_dag(tmp_path: Path, fail: str = "") -> tuple[str, list[Any], list[dict[str, Any]]]:
    """Run the compiled demo DAG with the recording entry module: (state, task states, calls)."""
    (tmp_path / "recording_entry.py").write_text(RECORDING_ENTRY)
    dags = tmp_path / "dags"
    dags.mkdir()
    tests = str(ROOT / "tests" / "unit" / "compiler")
    (dags / "run_me.py").write_text(DAG_FILE.format(tests=tests, tmp=str(tmp_path)))
    calls = tmp_path / "calls.jsonl"
    home = tmp_path / "airflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "ETLX_TEST_CALLS": str(calls),
            "ETLX_TEST_FAIL": fail,
        }
    )
    code = RUN.format(dag_file=str(dags / "run_me.py"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    state = next((line.split()[1] for line in lines if line.startswith("STATE ")), None)
    assert state is not None, done.stdout[-4000:] + done.stderr[-4000:]
    tasks = json.loads(next(line for line in lines if line.startswith("TASKS "))[6:])
    records = [json.loads(line) for line in calls.read_text().splitlines()]
    return state, tasks, records


def test_compiled_dag_runs_every_stage_with_mapped_chunks(tmp_path: Path) -> None:
    state, tasks, records = _run_dag(tmp_path)
    assert state == "success", tasks

    stages = [r["stage"] for r in records]
    assert stages.count("extract") == 1 and stages.count("field_rules") == 3
    assert stages.count("transform") == 1 and stages.count("anonymize") == 2
    assert stages[-2:] == ["load_outbox", "cleanup"]
    assert records[-1]["run"]["task_id"] == "cleanup" and records[-1]["arg"] is None
    transform = next(r for r in records if r["stage"] == "transform")
    assert sorted(c["chunk"] for c in transform["arg"]) == [0, 1, 2]
    assert all(c["clean"] for c in transform["arg"])
    load = records[-2]
    assert sorted(c["chunk"] for c in load["arg"]) == [0, 1]
    run = records[0]["run"]
    assert run["dag_id"] == "etlx__run_me" and run["task_slug"] == "run_me"
    assert run["params"]["full_refresh"] is True
    assert run["data_interval_end"] is not None and run["dag_run_id"]
    assert {r["run"]["map_index"] for r in records if r["stage"] == "field_rules"} == {0, 1, 2}
    # first attempts say so: run tracking resumes a failed run only on a retry (try_number > 1)
    assert {r["run"]["try_number"] for r in records} == {1}
    assert records[0]["roles"] == [
        "extraction",
        "field_rules",
        "transformation",
        "anonymization",
        "upload",
    ]


def test_a_failed_stage_still_runs_the_cleanup_and_the_run_stays_failed(tmp_path: Path) -> None:
    state, tasks, records = _run_dag(tmp_path, fail="anonymize")
    # The teardown succeeded, yet the run is failed: teardowns do not decide a run's state.
    assert state == "failed", tasks
    states = {(task_id, index): ti_state for task_id, index, ti_state in tasks}
    assert states[("anonymize", 0)] == "failed"
    assert states[("load_outbox", -1)] == "upstream_failed"
    assert states[("cleanup", -1)] == "success"
    stages = [r["stage"] for r in records]
    assert "load_outbox" not in stages
    assert stages.count("cleanup") == 1 and stages[-1] == "cleanup"
    assert stages.count("anonymize") == 2  # the sibling chunk ran to its end before cleanup

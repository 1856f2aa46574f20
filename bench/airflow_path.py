"""The ETL-Express path through a real Airflow run: the compiled DAG, executed by `dag.test()`.

Same job as the stage path (same source, same five field rules, SQL transform, five PII
columns anonymized, outbox), but every stage runs as an Airflow task instance with mapped
chunks, so the difference to `etlx_stages` is the orchestration overhead. Airflow's metadata
DB is a throwaway SQLite file; `resetdb` is done before the clock starts.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

FIELD_RULES: dict[str, Any] = {
    "fields": {
        "full_name": {"steps": [{"op": "trim"}]},
        "email": {"steps": [{"op": "email"}]},
        "phone": {"steps": [{"op": "phone_e164", "default_region": "RU"}]},
        "inn": {"steps": [{"op": "regex_replace", "pattern": r"\D", "replacement": ""}]},
        "city": {"steps": [{"op": "trim"}, {"op": "case", "to": "title"}]},
        "id": {"validations": [{"expectation": "expect_column_values_to_not_be_null",
                                "severity": "quarantine"}]},
    },
    "dedupe": {"keys": ["id"]},
}  # fmt: skip
TRANSFORMATION: dict[str, Any] = {
    "language": "sql",
    "inputs": [{"name": "source"}],
    "sql": "SELECT id, full_name, email, phone, birth_date, inn, address, salary, created_at, "
    "city, is_active, salary >= 100000 AS high_earner FROM source",
}
ANONYMIZATION: dict[str, Any] = {
    "columns": {
        "full_name": {"operator": "fake", "kind": "person_name"},
        "email": {"operator": "pseudonym"},
        "inn": {"operator": "pseudonym"},
        "phone": {"operator": "mask", "keep_last": 2},
        "birth_date": {"operator": "generalize", "kind": "date", "to": "year"},
    },
    "unlisted_columns": "keep",
}


def bench_bundle(
    task_id: int, slug: str, query: str, chunk_rows: int, execution: str = "mapped"
) -> dict[str, Any]:
    extraction = {"source": "postgres", "connection_id": "etlx_bench_src", "query": query,
                  "chunk_size": chunk_rows}  # fmt: skip
    specs = [
        ("extraction", extraction),
        ("field_rules", FIELD_RULES),
        ("transformation", TRANSFORMATION),
        ("anonymization", ANONYMIZATION),
        ("upload", {"destination": "files"}),
    ]
    return {
        "task": {"id": task_id, "slug": slug, "name": slug, "description": "benchmark",
                 "owner": "bench", "schedule": None, "state": "active", "retention_days": 1,
                 "approver_must_differ": False, "quasi_identifiers": ["birth_date", "city"],
                 "revision": 1, "params": {}, "tags": [], "execution": execution},
        "scripts": [
            {"role": role, "position": 0, "input_name": "source" if role == "extraction" else None,
             "name": f"bench_{role}", "kind": role, "version": 1, "spec": spec,
             "spec_sha256": "", "output_schema": None}
            for role, spec in specs
        ],
    }  # fmt: skip


def run_dag(bundle: dict[str, Any], source_url: str, outbox_url: str) -> tuple[str, float]:
    """Run the compiled DAG once; returns (final state, seconds spent in dag.test)."""
    home = tempfile.mkdtemp(prefix="etlx-bench-airflow-")
    for key in [k for k in os.environ if k.startswith(("AIRFLOW_", "AIRFLOW__"))]:
        del os.environ[key]
    os.environ.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGS_FOLDER": home,
            "AIRFLOW_CONN_ETLX_BENCH_SRC": source_url,
            "ETLX_DATABASE_URL": outbox_url,
            "ETLX_STAGING_DIR": f"{home}/staging",
            "ETLX_PSEUDONYM_KEY": "bench-key-0123456789abcdef",
            "OPENBLAS_NUM_THREADS": "1",
        }
    )
    import json
    import runpy

    from airflow.utils import db

    from etl_express.settings import reset_settings_cache

    reset_settings_cache()
    db.resetdb()
    # dag.test() needs a DAG that comes from a file in the DAGs folder (it serializes it)
    (Path(home) / "bundle.json").write_text(json.dumps(bundle))
    dag_file = Path(home) / "bench_dag.py"
    dag_file.write_text(
        "import json\n"
        "from etl_express.compiler.build import compile_task\n"
        f"dag = compile_task(json.load(open({str(Path(home) / 'bundle.json')!r})))\n"
    )
    dag = runpy.run_path(str(dag_file))["dag"]
    started = time.perf_counter()
    run = dag.test()
    return str(run.state), time.perf_counter() - started

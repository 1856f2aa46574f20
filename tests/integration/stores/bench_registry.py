"""Measure registry and audit costs on a scratch database (its ETL-Express tables are emptied).

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE etlx_bench"
    .venv/bin/python tests/integration/stores/bench_registry.py \
        postgresql://postgres@127.0.0.1:5432/etlx_bench

Not collected by pytest (no test_ prefix): it prints figures, it asserts nothing.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from etl_express.registry import scripts, tasks
from etl_express.stores import audit, db

HERE = Path(__file__).resolve().parent
EVENTS = 300_000
FAKE_EVENTS = sa.text(
    "INSERT INTO audit_events (actor, action, object_type, object_id) "
    "SELECT 'user' || (g % 50), "
    "(ARRAY['task.save', 'script.save', 'batch.approve', 'run.stage'])[1 + g % 4], "
    "'task', (g % 1000)::text FROM generate_series(1, :n) g"
)


def _timed(label: str, runs: int, call: Any) -> None:
    start = time.perf_counter()
    for i in range(runs):
        call(i)
    print(f"{label}: {(time.perf_counter() - start) / runs * 1000:.1f} ms each ({runs} runs)")


def main(url: str) -> None:
    sys.path[:0] = [str(HERE.parent), str(HERE.parent / "registry")]
    from conftest import truncate_etlx_tables
    from registry_payloads import EXTRACTION, SCRIPTS, task_payload

    url = db.normalize_url(url)
    db.upgrade(url)
    truncate_etlx_tables(url)
    engine = db.make_engine(url)
    for name, (kind, spec) in SCRIPTS.items():
        scripts.save_script(engine, kind=kind, name=name, spec=copy.deepcopy(spec), actor="a")

    def new_version(i: int) -> None:
        spec = {**EXTRACTION, "chunk_size": 1000 + i}
        scripts.save_script(engine, kind="extraction", name="bench", spec=spec, actor="a")

    _timed("save_script, new version", 50, new_version)
    _timed("save_script, unchanged spec", 50, lambda i: new_version(49))
    _timed("save_task", 200, lambda i: tasks.save_task(engine, task_payload(f"Task {i}"), "a"))
    start = time.perf_counter()
    bundles = tasks.load_active_bundles(engine)
    took = (time.perf_counter() - start) * 1000
    print(f"load_active_bundles: {len(bundles)} tasks in {took:.0f} ms")

    with engine.begin() as conn:
        conn.execute(FAKE_EVENTS, {"n": EVENTS})
        conn.execute(sa.text("ANALYZE audit_events"))
    searches: list[tuple[str, dict[str, Any]]] = [
        ("newest 50", {}),
        ("actor", {"actor": "user7"}),
        ("action prefix", {"action": "batch"}),
        ("object", {"object_type": "task", "object_id": "42"}),
        ("text, common word", {"q": "task"}),
        ("text, no match", {"q": "approve user7"}),
    ]
    with engine.connect() as conn:
        for label, filters in searches:
            audit.search_events(conn, **filters)  # warm the cache: measure the query, not I/O
            start = time.perf_counter()
            rows = audit.search_events(conn, **filters)
            took = (time.perf_counter() - start) * 1000
            print(
                f"search_events over {EVENTS:,} events, {label}: {took:.1f} ms ({len(rows)} rows)"
            )
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])

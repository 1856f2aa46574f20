"""`make bench [ROWS=N]`: throughput and peak memory of five paths on the same source table.

Each path runs in its own subprocess so its peak RSS (ru_maxrss) is its own, in `--repeat`
rounds (default 3, every path once per round), and reports its median round. Results go to
bench/results/latest.json in the format issue 5 fixes, and details (seconds, sample sizes,
notes) to bench/results/latest-details.json.

    .venv/bin/python bench/run.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SERVER = os.environ.get("ETLX_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SOURCE_DB, OUTBOX_DB = "etlx_bench", "etlx_bench_outbox"
# One source table per size (the parent sets it for its children), so a 10M run does not
# regenerate the 1M table the next default run needs.
SOURCE_TABLE = os.environ.get("ETLX_BENCH_SOURCE_TABLE", "bench_source_1000000")
PATHS = ("copy_passthrough", "etlx_stages", "etlx_airflow", "presidio_structured", "pandas_faker")
PEERS = ("presidio_structured", "pandas_faker")
# Run and reported in the details file beside the five paths.
FLOOR, MAPPED = "arrow_floor", "etlx_stages_mapped"
RUN_ORDER = ("copy_passthrough", FLOOR, PATHS[1], MAPPED, *PATHS[2:])
CHUNK_ROWS = 100_000
WORKERS = int(os.environ.get("ETLX_BENCH_WORKERS") or os.cpu_count() or 1)
STAGE_SECONDS: dict[str, float] = {}  # where the stage path spends its time (details file)
STAGE_PEAK_RSS: dict[str, float] = {}
STAGE_IDLE: dict[str, float] = {}  # core-seconds the machine stood idle during each stage
COLUMNS = (
    "id, full_name, email, phone, birth_date, inn, address, salary, created_at, city, is_active"
)
# Imported before the clock starts, so every path is timed on its work, not on imports
# (DuckDB imports pandas the first time it is handed an Arrow table).
WARM = {
    "copy_passthrough": ("psycopg",),
    "arrow_floor": ("pyarrow", "adbc_driver_postgresql.dbapi", "sqlalchemy", "psycopg",
                    "etl_express.sources", "etl_express.stages.entry",
                    "etl_express.stages.outbox", "etl_express.stores.batches", "pgpq"),
    "etlx_stages": ("polars", "pyarrow.parquet", "duckdb", "pandas", "adbc_driver_postgresql.dbapi",
                    "sqlalchemy", "sqlglot", "sqlglot.dialects.duckdb",
                    "etl_express.anonymize.engine", "etl_express.stages.entry",
                    "etl_express.stages.streamed", "etl_express.stores.batches", "pgpq"),
    "etlx_airflow": (),
    "etlx_stages_mapped": ("polars", "pyarrow.parquet", "duckdb", "pandas",
                           "adbc_driver_postgresql.dbapi", "sqlalchemy", "sqlglot",
                           "sqlglot.dialects.duckdb", "etl_express.anonymize.engine",
                           "etl_express.stages.entry", "etl_express.stores.batches", "pgpq"),
    "presidio_structured": ("pandas", "sqlalchemy", "faker", "phonenumbers", "presidio_structured",
                            "presidio_anonymizer"),
    "pandas_faker": ("pandas", "sqlalchemy", "faker", "phonenumbers"),
}  # fmt: skip


def db_url(name: str) -> str:
    return SERVER.rsplit("/", 1)[0] + "/" + name


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all of the process's threads
    return usage.ru_utime + usage.ru_stime


def machine_cpu_s() -> tuple[float, float, float]:
    """(busy, idle, iowait) core-seconds of the whole machine since boot, from /proc/stat:
    busy includes the database server's processes, which do the COPY work of every path;
    idle includes iowait, the part of it spent waiting on the disk (a commit's WAL flush)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / ticks, idle / ticks, fields[4] / ticks


# ---------------------------------------------------------------- paths (run in a child)


def copy_passthrough(rows: int) -> int:
    import psycopg

    url = db_url(SOURCE_DB)
    with psycopg.connect(url) as src, psycopg.connect(url) as dst:
        dst.execute("DROP TABLE IF EXISTS bench_copy_target")
        dst.execute(
            f"CREATE TABLE bench_copy_target AS SELECT {COLUMNS} FROM {SOURCE_TABLE} WITH NO DATA"
        )
        out = f"COPY (SELECT {COLUMNS} FROM {SOURCE_TABLE}) TO STDOUT (FORMAT BINARY)"
        with (
            src.cursor().copy(out) as reader,
            dst.cursor().copy("COPY bench_copy_target FROM STDIN (FORMAT BINARY)") as writer,
        ):
            for block in reader:
                writer.write(block)
        dst.commit()
        count = dst.execute("SELECT count(*) FROM bench_copy_target").fetchone()
    return int(count[0]) if count else 0


def _bench_task_id(outbox: str) -> int:
    """The id of the bench's task row (made on first use)."""
    import sqlalchemy as sa

    from etl_express.stores.db import make_engine
    from etl_express.stores.schema import etl_tasks

    engine = make_engine(outbox)
    try:
        with engine.begin() as conn:
            task_id = conn.execute(
                sa.select(etl_tasks.c.id).where(etl_tasks.c.slug == "bench")
            ).scalar()
            if task_id is None:
                task_id = conn.execute(
                    sa.insert(etl_tasks).values(slug="bench", name="bench", owner="bench",
                        created_by="bench", updated_by="bench", spec={}).returning(etl_tasks.c.id)
                ).scalar()  # fmt: skip
        return int(task_id)
    finally:
        engine.dispose()


def _new_batch(outbox: str) -> int:
    from etl_express.stores import batches
    from etl_express.stores.audit import SYSTEM, audited
    from etl_express.stores.db import make_engine

    task_id = _bench_task_id(outbox)
    engine = make_engine(outbox)
    try:
        with audited(engine, SYSTEM) as tx:
            return batches.create_batch(tx, task_id=task_id, run_id=None).id
    finally:
        engine.dispose()


def _stage_setup(
    staging: str, execution: str = "streamed"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run, bundle) of the stage entry points, as the compiled DAG's tasks get them, with
    the environment they read (source connection, outbox database, staging, pseudonym key)."""
    from airflow_path import bench_bundle

    from etl_express.settings import reset_settings_cache

    outbox = db_url(OUTBOX_DB)
    query = f"SELECT {COLUMNS} FROM {SOURCE_TABLE}"
    bundle = bench_bundle(_bench_task_id(outbox), "bench", query, CHUNK_ROWS, execution)
    os.environ.update({"AIRFLOW_CONN_ETLX_BENCH_SRC": db_url(SOURCE_DB),
                       "ETLX_DATABASE_URL": outbox, "ETLX_STAGING_DIR": staging,
                       "ETLX_PSEUDONYM_KEY": "bench-key-0123456789abcdef"})  # fmt: skip
    reset_settings_cache()
    run = {"dag_id": "etlx__bench", "dag_run_id": f"bench__{time.time_ns()}",
           "task_id": "bench", "map_index": -1, "try_number": 1, "params": {},
           "data_interval_start": None, "data_interval_end": None, "logical_date": None,
           "task_slug": "bench"}  # fmt: skip
    return run, bundle


def etlx_stages(rows: int) -> tuple[int, float]:
    """The stage entry point a streamed task's one Airflow task calls (`entry.process`, see
    etl_express.stages.streamed), with the same bundle as the Airflow path, minus Airflow.
    Timed from the call to its return, as the Airflow path times `dag.test()`: the bench's
    own setup (its task row, environment) is not the task's work."""
    from etl_express.stages import entry

    with tempfile.TemporaryDirectory(prefix="etlx-bench-") as staging:
        run, bundle = _stage_setup(staging)
        clock, idle = time.perf_counter(), machine_cpu_s()[1]
        done = entry.process(run, bundle)
        seconds = time.perf_counter() - clock
        STAGE_SECONDS["process"] = seconds
        STAGE_IDLE["process"] = machine_cpu_s()[1] - idle
    return int(done["row_count"]), seconds


def etlx_stages_mapped(rows: int) -> tuple[int, float]:
    """The same task with `execution: mapped`: the entry points the mapped DAG's stage tasks
    call, minus Airflow, mapped stages (field rules, anonymize) on WORKERS threads as the
    DAG's mapped task instances run side by side; not one of the issue's five paths
    (details file only)."""
    from concurrent.futures import ThreadPoolExecutor

    from etl_express.stages import entry

    with tempfile.TemporaryDirectory(prefix="etlx-bench-") as staging:
        run, bundle = _stage_setup(staging, "mapped")
        started = clock = time.perf_counter()
        idle = machine_cpu_s()[1]

        def timed(stage: str, func: Any, *args: Any) -> Any:
            nonlocal clock, idle
            result = func(*args)
            STAGE_SECONDS[stage] = time.perf_counter() - clock
            STAGE_IDLE[stage] = machine_cpu_s()[1] - idle
            STAGE_PEAK_RSS[stage] = peak_rss_mb()  # the process's peak so far
            clock, idle = time.perf_counter(), machine_cpu_s()[1]
            return result

        with ThreadPoolExecutor(WORKERS) as pool:
            chunks = timed("extract", entry.extract, run, bundle)
            cleaned = timed("field_rules", lambda: list(pool.map(
                lambda c: entry.field_rules(run, bundle, c), chunks)))  # fmt: skip
            shaped = timed("transform", entry.transform, run, bundle, cleaned)
            hidden = timed("anonymize", lambda: list(pool.map(
                lambda c: entry.anonymize(run, bundle, c), shaped)))  # fmt: skip
            done = timed("load_outbox", entry.load_outbox, run, bundle, hidden)
        seconds = time.perf_counter() - started
    return int(done["row_count"]), seconds


def arrow_floor(rows: int) -> tuple[int, float]:
    """The floor of the stage path's data path: its own source reader (COPY out, decoded by
    the ADBC driver into Arrow, numeric kept exact) and its own outbox load (Arrow encoded
    into COPY by the driver), same chunks, with no stage and no staging between them, the
    reading and the loading overlapping on two threads. What any work on the rows adds comes
    on top of this; not one of the issue's five paths (details file only)."""
    import queue
    import threading

    import pyarrow as pa

    from etl_express.sources import open_source
    from etl_express.stages import entry
    from etl_express.stages.outbox import load_chunk

    with tempfile.TemporaryDirectory(prefix="etlx-bench-") as staging:
        run, bundle = _stage_setup(staging)
        batch_id = _new_batch(db_url(OUTBOX_DB))
        source = open_source(entry.source_config(bundle["scripts"][0]["spec"], run, bundle))
        chunks: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(2)

        def read() -> None:
            try:
                for batch in source.batches():
                    chunks.put(batch)
                chunks.put(None)
            except BaseException as exc:  # handed to the loading thread, which raises it
                chunks.put(exc)

        started = time.perf_counter()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        loaded = index = 0
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            loaded += load_chunk(db_url(OUTBOX_DB), batch_id, index, item)
            index += 1
        reader.join()
        seconds = time.perf_counter() - started
    return loaded, seconds


def etlx_airflow(rows: int) -> tuple[int, float]:
    import psycopg
    from airflow_path import bench_bundle, run_dag

    outbox = db_url(OUTBOX_DB)
    query = f"SELECT {COLUMNS} FROM {SOURCE_TABLE}"
    bundle = bench_bundle(_bench_task_id(outbox), "bench", query, CHUNK_ROWS, "streamed")
    state, seconds = run_dag(bundle, db_url(SOURCE_DB), outbox)
    if state != "success":
        raise RuntimeError(f"the DAG run ended {state}")
    with psycopg.connect(outbox) as conn:
        row = conn.execute(
            "SELECT row_count FROM outbox_batches WHERE run_id IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return (int(row[0]) if row else 0), seconds


def presidio_structured(rows: int) -> int:
    from peers import presidio_structured as run

    return run(db_url(SOURCE_DB), SOURCE_TABLE, rows, "bench_presidio_target")


def pandas_faker(rows: int) -> int:
    from peers import pandas_faker as run

    return run(db_url(SOURCE_DB), SOURCE_TABLE, rows, "bench_pandas_target")


def child(path: str, rows: int) -> None:
    import importlib

    for module in WARM[path]:
        importlib.import_module(module)
    started, cpu, machine = time.perf_counter(), process_cpu_s(), machine_cpu_s()
    done = globals()[path](rows)
    seconds = time.perf_counter() - started
    cpu = process_cpu_s() - cpu
    busy, idle, iowait = (
        after - before for before, after in zip(machine, machine_cpu_s(), strict=True)
    )
    if isinstance(done, tuple):  # the path timed itself (setup excluded)
        done, seconds = done
    report = {"rows": done, "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
              "cpu_s": {"process": round(cpu, 2), "machine_busy": round(busy, 2),
                        "machine_idle": round(idle, 2),
                        "machine_iowait": round(iowait, 2)}}  # fmt: skip
    if STAGE_SECONDS:
        report["stage_seconds"] = {k: round(v, 2) for k, v in STAGE_SECONDS.items()}
        report["stage_idle_core_s"] = {k: round(v, 2) for k, v in STAGE_IDLE.items()}
        report["peak_rss_mb_after_stage"] = {k: round(v) for k, v in STAGE_PEAK_RSS.items()}
    print(json.dumps(report))


# ---------------------------------------------------------------- orchestration (parent)


def prepare(rows: int, regenerate: bool) -> None:
    import psycopg
    from generate import generate_source
    from psycopg import sql

    from etl_express.stores.db import upgrade

    with psycopg.connect(SERVER, autocommit=True) as conn:
        for name in (SOURCE_DB, OUTBOX_DB):
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(db_url(SOURCE_DB)) as conn:
        present = conn.execute("SELECT to_regclass(%s)", (SOURCE_TABLE,)).fetchone()
        count = (
            conn.execute(f"SELECT count(*) FROM {SOURCE_TABLE}").fetchone()
            if present and present[0]
            else None
        )
    if regenerate or count is None or count[0] != rows:
        print(f"generating {rows} rows in {SOURCE_DB}.{SOURCE_TABLE} ...", flush=True)
        generate_source(db_url(SOURCE_DB), SOURCE_TABLE, rows)
    upgrade(db_url(OUTBOX_DB))
    with psycopg.connect(db_url(OUTBOX_DB), autocommit=True) as conn:  # earlier runs' batches
        conn.execute("DROP SCHEMA IF EXISTS outbox CASCADE")
        conn.execute("CREATE SCHEMA outbox")


def run_path(path: str, rows: int, timeout: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__)), "--child", path, "--rows", str(rows)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return {"error": lines[-1] if lines else f"exit {proc.returncode}"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = round(result["rows"] / result["seconds"], 1)
    return result


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rows/s (the slower middle one of an even count), with every
    round's rows/s beside it and the highest peak RSS of them. The machine's speed drifts by
    15-25% within an hour, so one round of a path can land in a slow minute and another in a
    fast one; rounds run interleaved, every path once per round."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["rows_per_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["rounds_rows_per_s"] = [r["rows_per_s"] for r in runs]
    chosen["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return chosen


def paired_ratios(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, list[float | None]]:
    """The stage path over each other path, round by round (paths of one round ran minutes
    apart, so these ratios see less of the drift than ones across rounds)."""
    ours = rounds.get("etlx_stages", [])
    out: dict[str, list[float | None]] = {}
    for path, runs in rounds.items():
        if path == "etlx_stages":
            continue
        out[path] = [
            round(a["rows_per_s"] / b["rows_per_s"], 3)
            if "rows_per_s" in a and b.get("rows_per_s") else None
            for a, b in zip(ours, runs, strict=False)
        ]  # fmt: skip
    return out


def summarize(rows: int, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    speed = {p: results[p].get("rows_per_s") for p in PATHS}
    rss = {p: (round(results[p]["peak_rss_mb"], 1) if "peak_rss_mb" in results[p] else None)
           for p in PATHS}  # fmt: skip
    ours = speed["etlx_stages"]

    def ratio(other: str) -> float | None:
        theirs = speed[other]
        return round(ours / theirs, 3) if ours and theirs else None

    return {
        "rows": rows,
        "rows_per_s": speed,
        "ratios": {
            "vs_copy": ratio("copy_passthrough"),
            "vs_presidio_structured": ratio("presidio_structured"),
            "vs_pandas_faker": ratio("pandas_faker"),
        },
        "peak_rss_mb": rss,
    }


def rss_scaling(out: Path) -> dict[str, Any] | None:
    """Peak RSS of each path at 10M rows over its peak at 1M (target <= 1.2), from the
    latest run of each size."""
    try:
        small = json.loads((out / "rows-1000000.json").read_text())["peak_rss_mb"]
        large = json.loads((out / "rows-10000000.json").read_text())["peak_rss_mb"]
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return {p: round(large[p] / small[p], 3) for p in PATHS if small.get(p) and large.get(p)}


def cpu_budget(rows: int, results: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """What the issue's 0.5x-of-COPY target leaves in core-seconds on this machine, beside
    what the floor (Arrow in and out, no work) and the stage path used: how much the work on
    the rows and the idle time have to shrink to reach it here."""
    copy, floor, ours = (results.get(p, {}) for p in ("copy_passthrough", FLOOR, "etlx_stages"))
    if not all("cpu_s" in r for r in (copy, floor, ours)):
        return None
    seconds = 2 * rows / copy["rows_per_s"]  # the stage path's time at 0.5x COPY
    cores = os.cpu_count() or 1
    busy = {
        "copy_passthrough": copy["cpu_s"]["machine_busy"],
        FLOOR: floor["cpu_s"]["machine_busy"],
        "etlx_stages": ours["cpu_s"]["machine_busy"],
    }
    return {
        "seconds_at_target": round(seconds, 2),
        "core_s_at_target": round(cores * seconds, 2),
        "machine_busy_core_s": busy,
        "stage_work_core_s": round(busy["etlx_stages"] - busy[FLOOR], 2),
        "floor_share_of_target": round(busy[FLOOR] / (cores * seconds), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--peer-rows", type=int, default=0, help="sample for slow peers (>= 20000)")
    parser.add_argument("--paths", default=",".join(RUN_ORDER))
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of every path, interleaved; each path reports its median",
    )
    parser.add_argument("--child", choices=RUN_ORDER)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    peer_rows = args.peer_rows or min(args.rows, max(20_000, args.rows // 20))
    global SOURCE_TABLE
    SOURCE_TABLE = os.environ["ETLX_BENCH_SOURCE_TABLE"] = f"bench_source_{args.rows}"
    prepare(args.rows, args.regenerate)
    selected = [p for p in RUN_ORDER if p in args.paths.split(",")]
    rounds: dict[str, list[dict[str, Any]]] = {p: [] for p in selected}
    for round_ in range(1, args.repeat + 1):
        for path in selected:
            size = peer_rows if path in PEERS else args.rows
            print(f"{path}: {size} rows (round {round_} of {args.repeat}) ...", flush=True)
            rounds[path].append({"input_rows": size, **run_path(path, size, args.timeout)})
            print(f"  {json.dumps(rounds[path][-1])}", flush=True)
    results = {p: median_run(rounds[p]) if p in rounds else {"error": "not selected"}
               for p in RUN_ORDER}  # fmt: skip
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    summary = summarize(args.rows, results)
    (out / "latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / f"rows-{args.rows}.json").write_text(json.dumps(summary, indent=2) + "\n")
    details = {"summary": summary, "paths": results, "chunk_rows": CHUNK_ROWS,
               "repeat": args.repeat, "paired_ratios": paired_ratios(rounds),
               "peer_rows": peer_rows, "cpu_count": os.cpu_count(),
               "load_avg_at_end": os.getloadavg(), "rss_scaling": rss_scaling(out),
               "cpu_budget": cpu_budget(args.rows, results)}  # fmt: skip
    (out / "latest-details.json").write_text(json.dumps(details, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    if budget := details["cpu_budget"]:
        print("CPU budget:", json.dumps(budget))
    if details["rss_scaling"]:
        print("peak RSS at 10M / at 1M:", json.dumps(details["rss_scaling"]))


if __name__ == "__main__":
    main()

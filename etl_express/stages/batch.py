"""The outbox batch of an Airflow run: found again on retry, created once, failed at run end
when it was never published."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


def batch_for_run(url: str, *, task_id: int, dag_id: str, dag_run_id: str) -> int:
    """Id of the batch this DAG run loads into (its task_runs row is created when missing)."""
    from etl_express.stores import batches, runs
    from etl_express.stores.audit import SYSTEM, audited
    from etl_express.stores.db import make_engine
    from etl_express.stores.schema import outbox_batches

    engine = make_engine(url)
    try:
        with audited(engine, SYSTEM) as tx:
            # One writer per run at a time: a retry racing a slow first attempt waits here.
            _lock_run(tx.conn, dag_id, dag_run_id)
            run = runs.find_run(tx.conn, dag_id, dag_run_id)
            if run is None:
                run = runs.start_run(tx, task_id=task_id, dag_id=dag_id, dag_run_id=dag_run_id)
            existing = tx.conn.execute(
                sa.select(outbox_batches.c.id, outbox_batches.c.state)
                .where(outbox_batches.c.run_id == run.id)
                .order_by(outbox_batches.c.id.desc())
                .limit(1)
            ).first()
            # A batch failed by an earlier attempt's cleanup stays failed (it is audited); the
            # retry of the run loads a new one.
            if existing is not None and existing.state != "failed":
                tx.nothing_changed()
                return int(existing.id)
            return batches.create_batch(tx, task_id=task_id, run_id=run.id).id
    finally:
        engine.dispose()


@dataclass(frozen=True)
class RunEnd:
    """What `end_run_batches` found: batches it failed now, every unpublished one (failed now or
    earlier, whose hidden table may be left) and whether the run published a batch."""

    failed: list[int]
    unpublished: list[int]
    published: bool


def end_run_batches(url: str, *, dag_id: str, dag_run_id: str) -> RunEnd:
    """At the end of a run, whatever its outcome: a batch still `processing` becomes `failed`
    (audited, system actor). Idempotent: a second call fails nothing more."""
    from etl_express.stages.outbox import table_name
    from etl_express.stores import batches, runs
    from etl_express.stores.audit import SYSTEM, audited
    from etl_express.stores.db import make_engine
    from etl_express.stores.schema import outbox_batches

    engine = make_engine(url)
    try:
        with audited(engine, SYSTEM) as tx:
            _lock_run(tx.conn, dag_id, dag_run_id)
            run = runs.find_run(tx.conn, dag_id, dag_run_id)
            rows = [] if run is None else tx.conn.execute(
                sa.select(outbox_batches.c.id, outbox_batches.c.table_name)
                .where(outbox_batches.c.run_id == run.id)
                .order_by(outbox_batches.c.id)
            ).all()  # fmt: skip
            failed = []
            for row in rows:
                batch = batches.get_batch(tx.conn, int(row.id), for_update=True)
                if batch is not None and batch.state == "processing":
                    reason = "the run ended before the batch was published"
                    batches.transition(tx, batch, "failed", reason=reason)
                    failed.append(batch.id)
            if not failed:
                tx.nothing_changed()
    finally:
        engine.dispose()
    # Publishing renames the hidden table to its final name in the same transaction.
    unpublished = [int(r.id) for r in rows if r.table_name != table_name(int(r.id))]
    return RunEnd(failed, unpublished, len(unpublished) < len(rows))


def _lock_run(conn: sa.Connection, dag_id: str, dag_run_id: str) -> None:
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
        {"k": f"etlx-batch:{dag_id}:{dag_run_id}"},
    )

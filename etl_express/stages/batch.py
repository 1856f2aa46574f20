"""The outbox batch of an Airflow run: found again on retry, created once."""

from __future__ import annotations

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
            tx.conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"etlx-batch:{dag_id}:{dag_run_id}"},
            )
            run = runs.find_run(tx.conn, dag_id, dag_run_id)
            if run is None:
                run = runs.start_run(tx, task_id=task_id, dag_id=dag_id, dag_run_id=dag_run_id)
            existing = tx.conn.execute(
                sa.select(outbox_batches.c.id)
                .where(outbox_batches.c.run_id == run.id)
                .order_by(outbox_batches.c.id.desc())
                .limit(1)
            ).scalar()
            if existing is not None:
                tx.nothing_changed()
                return int(existing)
            return batches.create_batch(tx, task_id=task_id, run_id=run.id).id
    finally:
        engine.dispose()

"""Seed a batch the privacy gate blocked, the way the processing engine does it.

The real gate runs on a chunk whose e-mail column was left as it was (the leak), the real
privacy report is built from it, the chunk is loaded into the outbox and `finalize_batch`
publishes the batch as `blocked` with the runner's reason wording.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from pydantic import SecretStr

from etl_express.anonymize.gate import build_leak_index, check_batch
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.report import privacy_report
from etl_express.stages.outbox import finalize_batch, load_chunk
from etl_express.stores import batches
from etl_express.stores.audit import SYSTEM, audited
from etl_express.stores.db import make_engine
from etl_express.stores.schema import etl_tasks

KEYS = KeyRing(SecretStr("gate-test-key-0123456789abcdef"), version="3")


def ensure_task(engine: sa.Engine, slug: str, retention_days: int = 7) -> int:
    with engine.begin() as conn:
        found = conn.execute(sa.select(etl_tasks.c.id).where(etl_tasks.c.slug == slug)).scalar()
        if found is not None:
            return int(found)
        return int(
            conn.execute(
                sa.insert(etl_tasks)
                .values(
                    slug=slug,
                    name=slug,
                    owner="alice",
                    spec={},
                    created_by="alice",
                    updated_by="alice",
                    state="active",
                    retention_days=retention_days,
                )
                .returning(etl_tasks.c.id)
            ).scalar_one()
        )


def seed_blocked_batch(url: str, slug: str = "gate_orders") -> int:
    """A published `blocked` batch of three rows whose e-mails survived; returns its id."""
    engine = make_engine(url)
    try:
        task_id = ensure_task(engine, slug)
        with audited(engine, SYSTEM) as tx:
            batch_id = batches.create_batch(
                tx, task_id=task_id, run_id=None, key_version=KEYS.version
            ).id
    finally:
        engine.dispose()
    original = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "email": ["anna@example.ru", "boris@example.ru", "clara@example.com"],
            "city": ["Kazan", "Kazan", "Perm"],
        }
    )
    index = build_leak_index(original, ["email"], KEYS)
    gate = check_batch(original, index, KEYS)  # the e-mail operator was never applied
    assert gate.blocked
    stats = {"rows": 3, "columns": {"email": {"operator": "keep"}, "city": {"operator": "keep"}}}
    report = privacy_report(original, stats, ["city"], gate)
    load_chunk(url, batch_id, 0, original.to_arrow())
    done = finalize_batch(
        url,
        batch_id,
        1,
        privacy_report=report,
        blocked_reason=f"privacy gate: {len(gate.reasons)} finding(s)",
    )
    assert done.state == "blocked"
    return batch_id

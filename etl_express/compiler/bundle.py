"""The JSON-safe description of one task with its pinned scripts: what a DAG is built from.

The registry returns `TaskRecord`s (etl_express.stores.records); the compiler turns each into a
`dict` of this shape, embeds it in the DAG's stage tasks and passes it to the stage entry
points, so a run uses exactly the script versions the DAG was built with::

    {"task": {"id", "slug", "name", "description", "owner", "schedule", "state",
              "retention_days", "approver_must_differ", "quasi_identifiers", "revision",
              "params", "tags", "execution"},
     "scripts": [{"role", "position", "input_name", "name", "kind", "version",
                  "spec", "spec_sha256", "output_schema"}, ...]}   # ordered by role, position
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any, Final

ROLE_ORDER: Final = ("extraction", "field_rules", "transformation", "anonymization", "upload")


def bundle_of(record: Any) -> dict[str, Any]:
    """From a registry TaskRecord (or anything with its attributes and `scripts`)."""
    scripts = sorted(record.scripts, key=lambda s: (ROLE_ORDER.index(s.role), s.position))
    return {
        "task": {
            "id": record.id,
            "slug": record.slug,
            "name": record.name,
            "description": record.description,
            "owner": record.owner,
            "schedule": record.schedule,
            "state": record.state,
            "retention_days": record.retention_days,
            "approver_must_differ": record.approver_must_differ,
            "quasi_identifiers": list(record.quasi_identifiers),
            "revision": record.revision,
            "params": dict(record.spec.get("params") or {}),
            "tags": list(record.spec.get("tags") or []),
            "execution": record.spec.get("execution") or "mapped",
        },
        "scripts": [
            {
                "role": s.role,
                "position": s.position,
                "input_name": s.input_name,
                "name": s.name,
                "kind": s.kind,
                "version": s.version,
                "spec": s.spec,
                "spec_sha256": s.spec_sha256,
                "output_schema": s.output_schema,
            }
            for s in scripts
        ],
    }


def scripts_of(bundle: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [s for s in bundle["scripts"] if s["role"] == role]


# Airflow renders Jinja in every string of a task's arguments; a query's own
# `{{ data_interval_start }}` must reach the stage untouched (it binds typed values), so the
# bundle travels as one opaque, compact token.
_PREFIX: Final = "etlx1:"


def encode(bundle: dict[str, Any]) -> str:
    raw = json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 6)).decode("ascii")


def decode(token: str) -> dict[str, Any]:
    if not token.startswith(_PREFIX):
        raise ValueError("not an ETL-Express bundle token")
    data: dict[str, Any] = json.loads(zlib.decompress(base64.urlsafe_b64decode(token[6:])))
    return data

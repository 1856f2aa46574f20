"""Task records shaped like the registry's TaskRecord, built from the demo sample YAML."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "include" / "scripts" / "demo"


def _docs() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text("utf-8")) for p in sorted(DEMO.glob("*.yaml"))]


def pinned(doc: dict[str, Any], position: int = 0, input_name: str | None = None) -> dict[str, Any]:
    raw = json.dumps(doc["spec"], sort_keys=True).encode()
    return {
        "role": doc["kind"],
        "position": position,
        "input_name": input_name,
        "script_id": 1,
        "name": doc["name"],
        "kind": doc["kind"],
        "version": 1,
        "spec": doc["spec"],
        "spec_sha256": hashlib.sha256(raw).hexdigest(),
        "output_schema": None,
    }


def demo_record(slug: str = "demo_customers", **changes: Any) -> SimpleNamespace:
    docs = _docs()
    task = next(d for d in docs if d["kind"] == "task")["spec"]
    scripts = [
        pinned(d, input_name="customers" if d["kind"] == "extraction" else None)
        for d in docs
        if d["kind"] != "task"
    ]
    fields: dict[str, Any] = {
        "id": 7,
        "slug": slug,
        "name": task["name"],
        "description": task["description"],
        "owner": task["owner"],
        "schedule": task["schedule"],
        "state": "active",
        "retention_days": task["retention_days"],
        "approver_must_differ": task["approver_must_differ"],
        "quasi_identifiers": task["quasi_identifiers"],
        "revision": 3,
        "dag_error": None,
        "spec": {**task, "params": {"full_refresh": False}},
        "scripts": [SimpleNamespace(**s) for s in scripts],
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def record_as_json(record: SimpleNamespace) -> dict[str, Any]:
    data = dict(vars(record))
    data["scripts"] = [dict(vars(s)) for s in record.scripts]
    return data

"""Valid payloads of each script kind and a task using them (shared by registry tests)."""

from __future__ import annotations

from typing import Any

EXTRACTION: dict[str, Any] = {
    "source": "postgres",
    "connection_id": "demo_pg",
    "query": "SELECT id, email, full_name, city\nFROM customers\nWHERE id > 0",
    "output_schema": [
        {"name": "id", "type": "int64"},
        {"name": "email", "type": "string"},
        {"name": "full_name", "type": "string"},
        {"name": "city", "type": "string"},
    ],
}
FIELD_RULES: dict[str, Any] = {"fields": {"email": {"steps": [{"op": "trim"}]}}}
ANONYMIZATION: dict[str, Any] = {"columns": {"email": {"operator": "pseudonym"}}}
UPLOAD: dict[str, Any] = {"destination": "local_file", "options": {"directory": "/tmp/etlx-out"}}

SCRIPTS: dict[str, tuple[str, dict[str, Any]]] = {
    "customers_pg": ("extraction", EXTRACTION),
    "customers_rules": ("field_rules", FIELD_RULES),
    "customers_anon": ("anonymization", ANONYMIZATION),
    "to_disk": ("upload", UPLOAD),
}


def task_payload(name: str = "Customers export", **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "owner": "alice",
        "description": "Customers for the churn model",
        "schedule": "@daily",
        "scripts": {
            "extraction": [{"name": "customers_pg"}],
            "field_rules": {"name": "customers_rules"},
            "anonymization": {"name": "customers_anon"},
            "upload": {"name": "to_disk"},
        },
        "retention_days": 7,
        "quasi_identifiers": ["city"],
    }
    payload.update(changes)
    return payload

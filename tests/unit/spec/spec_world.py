"""A small world for spec tests: the demo scripts of include/scripts/demo, registered at v1,
and a source whose `customers` table is bound by DuckDB (a real SQL binder, no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from etl_express.spec import ColumnSchema, QueryRejected, ScriptKind, StaticContext, parse_script

ROOT = Path(__file__).resolve().parents[3]
DEMO_DIR = ROOT / "include" / "scripts" / "demo"

CUSTOMERS = [
    ColumnSchema(name="id", type="int64", nullable=False),
    ColumnSchema(name="full_name", type="string"),
    ColumnSchema(name="email", type="string"),
    ColumnSchema(name="phone", type="string"),
    ColumnSchema(name="birth_date", type="date32"),
    ColumnSchema(name="inn", type="string"),
    ColumnSchema(name="snils", type="string"),
    ColumnSchema(name="city", type="string"),
    ColumnSchema(name="address", type="string"),
    ColumnSchema(name="comment", type="string"),
    ColumnSchema(name="country", type="string"),
    ColumnSchema(name="created_at", type="timestamp[us, tz=UTC]"),
]
# Valid scripts naming columns the demo source does not have (task cross-check cases).
GHOSTS: list[tuple[ScriptKind, str, dict[str, Any]]] = [
    (
        ScriptKind.field_rules,
        "rules_with_ghost",
        {"fields": {"ghost_column": {"steps": [{"op": "trim"}]}}},
    ),
    (
        ScriptKind.anonymization,
        "anon_with_ghost",
        {"columns": {"passport_no": {"operator": "redact"}}},
    ),
]
CONNECTIONS = {"etlx_demo", "s3_default", "mlflow_default", "pg_out"}


def describe_with_duckdb(conn_id: str, sql: str) -> list[ColumnSchema] | None:
    from etl_express.spec.duckdb_bind import BindError, bind_query

    if conn_id != "etlx_demo":
        return None
    try:
        return bind_query(sql, {"customers": CUSTOMERS})
    except BindError as err:
        raise QueryRejected(str(err)) from None


def demo_documents() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text("utf-8")) for p in sorted(DEMO_DIR.glob("*.yaml"))]


def make_world(*, is_admin: bool = False) -> StaticContext:
    ctx = StaticContext(connections=set(CONNECTIONS), describer=describe_with_duckdb)
    ctx.is_admin = is_admin
    for doc in demo_documents():
        if doc["kind"] == "task":
            continue
        kind = ScriptKind(doc["kind"])
        spec = parse_script(kind, doc["spec"], ctx)
        schema = getattr(spec, "output_schema", None)
        ctx.scripts[(doc["name"], 1)] = (kind, doc["spec"], schema)
    for kind, name, payload in GHOSTS:
        ctx.scripts[(name, 1)] = (kind, payload, None)
    return ctx

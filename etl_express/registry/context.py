"""Validation context answered from our registry (scripts, versions, schemas).

Questions about the outside world (does an Airflow connection exist, what does a query return,
is the actor an admin) go to the `outer` context the caller passes, e.g. one backed by
Airflow's connections; without one they stay unknown and those checks are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from etl_express.spec import ColumnSchema, ScriptKind, ValidationContext
from etl_express.stores import scripts as script_store
from etl_express.stores.records import ScriptVersionRecord


class RegistryContext(ValidationContext):
    def __init__(self, conn: sa.Connection, outer: ValidationContext | None = None) -> None:
        self._conn = conn
        self._outer = outer or ValidationContext()
        self.is_admin = self._outer.is_admin
        self._cache: dict[tuple[str, int | None], ScriptVersionRecord | None] = {}

    def connection_exists(self, conn_id: str) -> bool | None:
        return self._outer.connection_exists(conn_id)

    def describe_query(self, conn_id: str, sql: str) -> list[ColumnSchema] | None:
        return self._outer.describe_query(conn_id, sql)

    def version(self, name: str, version: int | None) -> ScriptVersionRecord | None:
        key = (name, version)
        if key not in self._cache:
            self._cache[key] = script_store.get_version_by_name(self._conn, name, version)
        return self._cache[key]

    def script_schema(self, name: str, version: int | None) -> list[ColumnSchema] | None:
        found = self.version(name, version)
        if found is None or found.output_schema is None:
            return None
        return [ColumnSchema.model_validate(column) for column in found.output_schema]

    def script_exists(self, kind: ScriptKind, name: str, version: int | None) -> bool | None:
        found = self.version(name, version)
        return found is not None and found.kind == kind.value

    def script_spec(
        self, kind: ScriptKind, name: str, version: int | None
    ) -> Mapping[str, Any] | None:
        found = self.version(name, version)
        return None if found is None or found.kind != kind.value else found.spec

"""What validation may ask about the world outside the payload.

`ValidationContext` answers "unknown" (None) to every question; the registry subclasses it to
answer from its database and from Airflow's connections. Checks that need an answer are skipped
when the answer is unknown, so a script can be validated offline and again at save.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from etl_express.spec.common import ColumnSchema
from etl_express.spec.kinds import ScriptKind


class ValidationContext:
    """Base context: nothing is known, the actor is not an admin."""

    is_admin: bool = False

    def connection_exists(self, conn_id: str) -> bool | None:
        return None

    def describe_query(self, conn_id: str, sql: str) -> list[ColumnSchema] | None:
        """Output columns of `sql` (templates already substituted) run on `conn_id`."""
        return None

    def describe_files(
        self, source: str, path: str, delimiter: str, encoding: str
    ) -> list[ColumnSchema] | None:
        """Columns of CSV/Parquet files (see spec.describe.describe_local_files)."""
        return None

    def script_schema(self, name: str, version: int | None) -> list[ColumnSchema] | None:
        """Recorded output schema of a stored script version (None version = latest)."""
        return None

    def script_exists(self, kind: ScriptKind, name: str, version: int | None) -> bool | None:
        return None

    def script_spec(
        self, kind: ScriptKind, name: str, version: int | None
    ) -> Mapping[str, Any] | None:
        """The stored (already validated) payload of a script version, for task cross-checks."""
        return None


@dataclass
class StaticContext(ValidationContext):
    """A context answered from plain data: tests, `etlx validate` on files, dry runs.

    `connections` None means "unknown"; a set means exactly those exist. `scripts` maps
    (name, version) to (kind, payload, output schema or None).
    """

    connections: set[str] | None = None
    schemas: dict[tuple[str, str], list[ColumnSchema]] = field(default_factory=dict)
    scripts: dict[tuple[str, int], tuple[ScriptKind, dict[str, Any], list[ColumnSchema] | None]] = (
        field(default_factory=dict)
    )
    is_admin: bool = False
    describer: Callable[[str, str], list[ColumnSchema] | None] | None = None
    read_local_files: bool = False

    def describe_files(
        self, source: str, path: str, delimiter: str, encoding: str
    ) -> list[ColumnSchema] | None:
        if not self.read_local_files:
            return None
        from etl_express.spec.describe import describe_local_files

        return describe_local_files(source, path, delimiter=delimiter, encoding=encoding)

    def connection_exists(self, conn_id: str) -> bool | None:
        return None if self.connections is None else conn_id in self.connections

    def describe_query(self, conn_id: str, sql: str) -> list[ColumnSchema] | None:
        if self.describer is not None:
            return self.describer(conn_id, sql)
        return self.schemas.get((conn_id, sql))

    def _lookup(
        self, name: str, version: int | None
    ) -> tuple[ScriptKind, dict[str, Any], list[ColumnSchema] | None] | None:
        if version is None:
            versions = [v for (n, v) in self.scripts if n == name]
            if not versions:
                return None
            version = max(versions)
        return self.scripts.get((name, version))

    def script_schema(self, name: str, version: int | None) -> list[ColumnSchema] | None:
        found = self._lookup(name, version)
        return None if found is None else found[2]

    def script_exists(self, kind: ScriptKind, name: str, version: int | None) -> bool | None:
        if not self.scripts:
            return None
        found = self._lookup(name, version)
        return found is not None and found[0] == kind

    def script_spec(
        self, kind: ScriptKind, name: str, version: int | None
    ) -> Mapping[str, Any] | None:
        found = self._lookup(name, version)
        return None if found is None or found[0] != kind else found[1]


class QueryRejected(Exception):
    """The source database refused a query while describing it (message safe to show)."""

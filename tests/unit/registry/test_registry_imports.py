"""The DAG processor imports the registry's task loader on every parse: keep it light."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import etl_express.registry.tasks, etl_express.stores.db
heavy = ("alembic", "etl_express.spec", "sqlglot", "duckdb", "polars", "great_expectations")
print(",".join(m for m in heavy if m in sys.modules))
"""


def test_task_loader_imports_neither_alembic_nor_the_spec_package() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""

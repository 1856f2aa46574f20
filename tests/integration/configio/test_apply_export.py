"""Config as code on a real database: apply is idempotent, export round-trips, dry runs and
bad documents write nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from etl_express.configio import apply as applier
from etl_express.configio.documents import dump_documents, load_documents
from etl_express.errors import ValidationFailed
from etl_express.registry import scripts as script_service
from etl_express.registry import tasks as task_service
from etl_express.stores.audit import count_events

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "include" / "scripts" / "demo"
ETLX = str(Path(sys.executable).parent / "etlx")


def _canonical(text: str) -> list[dict[str, object]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _audit_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return count_events(conn)


def test_apply_is_idempotent_and_export_round_trips(etlx_engine: sa.Engine, tmp_path: Path) -> None:
    documents = load_documents([DEMO])
    first = applier.apply(etlx_engine, documents, "tester")
    assert {step.action for step in first} == {"create"}
    assert len(first) == len(documents) == 6
    task = task_service.get_task(etlx_engine, "demo_customers")
    assert task.state == "active" and task.dag_id == "etlx__demo_customers"

    events = _audit_count(etlx_engine)
    second = applier.apply(etlx_engine, documents, "tester")
    assert {step.action for step in second} == {"unchanged"}
    assert _audit_count(etlx_engine) == events  # nothing written, nothing audited

    exported = dump_documents(applier.export(etlx_engine))
    reapplied = applier.apply(etlx_engine, load_documents([_write(tmp_path, exported)]), "tester")
    assert {step.action for step in reapplied} == {"unchanged"}
    assert _canonical(dump_documents(applier.export(etlx_engine))) == _canonical(exported)


def test_changed_script_makes_a_new_version(etlx_engine: sa.Engine, tmp_path: Path) -> None:
    applier.apply(etlx_engine, load_documents([DEMO]), "tester")
    doc = yaml.safe_load((DEMO / "05_upload_local.yaml").read_text())
    changed = tmp_path / "upload.yaml"

    doc["description"] = "changed wording only"
    changed.write_text(yaml.safe_dump(doc, allow_unicode=True))
    assert applier.plan(etlx_engine, load_documents([changed]))[0].action == "unchanged"

    doc["spec"]["options"]["format"] = "csv"
    changed.write_text(yaml.safe_dump(doc, allow_unicode=True))
    step = applier.plan(etlx_engine, load_documents([changed]))[0]
    assert (step.action, step.detail) == ("new-version", "version 2")
    applier.apply(etlx_engine, load_documents([changed]), "tester")
    latest = script_service.get_version(etlx_engine, "demo_local_parquet")
    assert latest.version == 2 and latest.spec["options"]["format"] == "csv"
    # the task still pins version 1 until it is saved with another pin
    task = task_service.get_task(etlx_engine, "demo_customers")
    assert {(p.name, p.version) for p in task.scripts if p.role == "upload"} == {
        ("demo_local_parquet", 1)
    }


def test_dry_run_writes_nothing(etlx_engine: sa.Engine) -> None:
    plan = applier.plan(etlx_engine, load_documents([DEMO]))
    assert [step.action for step in plan] == ["create"] * 6
    assert script_service.list_scripts(etlx_engine) == []
    assert task_service.list_tasks(etlx_engine) == []
    assert _audit_count(etlx_engine) == 0


def test_bad_document_names_the_field_and_writes_nothing(
    etlx_engine: sa.Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: extraction\nname: bad_extract\nspec:\n  source: postgres\n"
        "  connection_id: etlx_demo\n  query: DELETE FROM customers\n"
    )
    with pytest.raises(ValidationFailed) as info:
        applier.apply(etlx_engine, load_documents([bad]), "tester")
    assert any(error.path == "$.query" for error in info.value.errors)
    assert script_service.list_scripts(etlx_engine) == []
    assert _audit_count(etlx_engine) == 0


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: pipeline\nname: x\nspec: {}\n")
    with pytest.raises(ValidationFailed) as info:
        load_documents([bad])
    assert info.value.errors[0].path == "$.kind"


def test_cli_apply_dry_run_apply_export(etlx_db: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETLX_", "AIRFLOW"))}
    env.update({"ETLX_DATABASE_URL": etlx_db, "ETLX_HOME": str(tmp_path)})

    def etlx(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ETLX, *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    dry = etlx("apply", "-f", str(DEMO), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "6 document(s), 6 would change" in dry.stdout
    applied = etlx("apply", "-f", str(DEMO))
    assert applied.returncode == 0, applied.stderr
    again = etlx("apply", "-f", str(DEMO))
    assert "6 document(s), 0 changed" in again.stdout
    exported = etlx("export")
    assert exported.returncode == 0, exported.stderr
    kinds = [doc["kind"] for doc in _canonical(exported.stdout)]
    assert sorted(kinds) == sorted(
        ["extraction", "field_rules", "transformation", "anonymization", "upload", "task"]
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: task\nspec:\n  name: Half a task\n  schedule: '@daily'\n")
    refused = etlx("validate", "-f", str(bad))
    assert refused.returncode == 2
    assert "Missing scripts" in refused.stderr or "$.scripts" in refused.stderr


def _write(directory: Path, text: str) -> Path:
    path = directory / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    return path

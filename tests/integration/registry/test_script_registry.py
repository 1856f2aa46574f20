"""Script registry on real PostgreSQL: validation, immutable versions, diff, audit."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from registry_payloads import EXTRACTION, FIELD_RULES

from etl_express.errors import NotFound, ValidationFailed
from etl_express.registry import scripts
from etl_express.stores import audit
from etl_express.stores.schema import script_versions


def _events(engine: sa.Engine, **filters: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return audit.search_events(conn, object_type="script", **filters)


def _count_versions(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(script_versions)
        return int(conn.execute(stmt).scalar_one())


def test_first_save_creates_version_one_with_its_audit_event(etlx_engine: sa.Engine) -> None:
    record = scripts.save_script(
        etlx_engine, kind="extraction", name="orders", spec=EXTRACTION, actor="alice", comment="v1"
    )
    assert (record.name, record.kind, record.version) == ("orders", "extraction", 1)
    assert record.created_by == "alice"
    assert record.comment == "v1"
    assert len(record.spec_sha256) == 64
    # The recorded output schema is kept beside the spec, typed and complete.
    assert record.output_schema is not None
    assert [c["name"] for c in record.output_schema] == ["id", "email", "full_name", "city"]

    [event] = _events(etlx_engine)
    assert event["action"] == "script.create"
    assert event["actor"] == "alice"
    assert event["object_id"] == "orders"
    assert event["after"]["version"] == 1
    assert event["after"]["spec"]["query"] == EXTRACTION["query"]


def test_unchanged_spec_makes_no_version_and_no_event(etlx_engine: sa.Engine) -> None:
    first = scripts.save_script(
        etlx_engine, kind="field_rules", name="rules", spec=FIELD_RULES, actor="alice"
    )
    # Same content, other key order and explicit defaults: still the same spec.
    same = {"fields": {"email": {"required": False, "steps": [{"op": "trim"}]}}}
    again = scripts.save_script(
        etlx_engine, kind="field_rules", name="rules", spec=same, actor="bob"
    )
    assert again.version == first.version == 1
    assert again.spec_sha256 == first.spec_sha256
    assert _count_versions(etlx_engine) == 1
    assert [e["action"] for e in _events(etlx_engine)] == ["script.create"]


def test_changed_spec_appends_a_version_and_diffs(etlx_engine: sa.Engine) -> None:
    scripts.save_script(etlx_engine, kind="extraction", name="o", spec=EXTRACTION, actor="alice")
    changed = copy.deepcopy(EXTRACTION)
    changed["query"] = EXTRACTION["query"].replace("id > 0", "id > 100")
    changed["chunk_size"] = 50_000
    v2 = scripts.save_script(
        etlx_engine, kind="extraction", name="o", spec=changed, actor="bob", comment="only big ids"
    )
    assert v2.version == 2
    assert scripts.get_script(etlx_engine, "o").latest_version == 2
    assert [v.version for v in scripts.list_versions(etlx_engine, "o")] == [2, 1]
    assert scripts.get_version(etlx_engine, "o").version == 2
    assert scripts.get_version(etlx_engine, "o", 1).spec["query"] == EXTRACTION["query"]

    save = _events(etlx_engine, action="script.save")[0]
    assert save["actor"] == "bob"
    assert save["before"]["version"] == 1 and save["after"]["version"] == 2
    assert save["details"]["comment"] == "only big ids"

    diff = scripts.diff_versions(etlx_engine, "o", 1, 2)
    assert diff.startswith("--- o@v1\n+++ o@v2\n")
    assert "-chunk_size: 100000\n+chunk_size: 50000\n" in diff
    assert "-  WHERE id > 0\n+  WHERE id > 100\n" in diff  # SQL shown as a literal block
    assert scripts.diff_versions(etlx_engine, "o", 2, 2) == ""
    json_diff = scripts.diff_versions(etlx_engine, "o", 1, 2, fmt="json")
    assert '-  "chunk_size": 100000,' in json_diff


@pytest.mark.parametrize(
    ("kind", "name", "spec", "path"),
    [
        ("extraction", "bad", {**EXTRACTION, "query": "DELETE FROM customers"}, "$.query"),
        ("extraction", "bad", {**EXTRACTION, "chunk_size": "many"}, "$.chunk_size"),
        ("field_rules", "bad", {"fields": {"email": {"steps": [{"op": "nope"}]}}}, "$.fields"),
        ("no_such_kind", "bad", EXTRACTION, "$.kind"),
        ("extraction", "bad name!", EXTRACTION, "$.name"),
        ("extraction", "", EXTRACTION, "$.name"),
    ],
)
def test_invalid_saves_write_nothing(
    etlx_engine: sa.Engine, kind: str, name: str, spec: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        scripts.save_script(etlx_engine, kind=kind, name=name, spec=spec, actor="alice")
    assert any(e.path.startswith(path) for e in info.value.errors), info.value.errors
    assert _count_versions(etlx_engine) == 0
    assert _events(etlx_engine) == []


def test_name_of_another_kind_is_refused(etlx_engine: sa.Engine) -> None:
    scripts.save_script(etlx_engine, kind="extraction", name="x", spec=EXTRACTION, actor="a")
    with pytest.raises(ValidationFailed) as info:
        scripts.save_script(etlx_engine, kind="field_rules", name="x", spec=FIELD_RULES, actor="a")
    assert info.value.errors[0].path == "$.name"
    assert "already a extraction script" in info.value.errors[0].message
    assert _count_versions(etlx_engine) == 1


def test_versions_are_immutable_in_the_database(etlx_engine: sa.Engine) -> None:
    scripts.save_script(etlx_engine, kind="extraction", name="x", spec=EXTRACTION, actor="a")
    for statement in ("UPDATE script_versions SET comment = 'x'", "DELETE FROM script_versions"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), etlx_engine.begin() as c:
            c.execute(sa.text(statement))
    assert _count_versions(etlx_engine) == 1


def test_list_search_archive_and_not_found(etlx_engine: sa.Engine) -> None:
    scripts.save_script(
        etlx_engine, kind="extraction", name="crm_orders", spec=EXTRACTION, actor="a"
    )
    scripts.save_script(
        etlx_engine,
        kind="field_rules",
        name="crm_rules",
        spec=FIELD_RULES,
        actor="a",
        description="Cleans 100% of e-mails",
    )
    names = lambda **kw: [s.name for s in scripts.list_scripts(etlx_engine, **kw)]  # noqa: E731
    assert names() == ["crm_orders", "crm_rules"]
    assert names(kind="field_rules") == ["crm_rules"]
    assert names(q="ORDERS") == ["crm_orders"]
    assert names(q="100%") == ["crm_rules"]  # description, with LIKE wildcards taken literally
    assert names(q="crm%rules") == []

    scripts.set_archived(etlx_engine, "crm_orders", archived=True, actor="b")
    assert names() == ["crm_rules"]
    assert names(include_archived=True) == ["crm_orders", "crm_rules"]
    assert _events(etlx_engine, action="script.archive")[0]["actor"] == "b"

    with pytest.raises(NotFound):
        scripts.get_script(etlx_engine, "nope")
    with pytest.raises(NotFound):
        scripts.get_version(etlx_engine, "crm_rules", 9)


def test_a_failure_mid_write_leaves_nothing(
    etlx_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl_express.stores import scripts as script_store
    from etl_express.stores.schema import scripts as scripts_table

    def broken(*args: object) -> None:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(script_store, "_insert_version", broken)
    with pytest.raises(RuntimeError, match="connection lost"):
        scripts.save_script(etlx_engine, kind="extraction", name="x", spec=EXTRACTION, actor="a")
    with etlx_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(scripts_table)).scalar() == 0
    assert _count_versions(etlx_engine) == 0
    assert _events(etlx_engine) == []


def test_concurrent_saves_get_consecutive_versions(etlx_engine: sa.Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    scripts.save_script(etlx_engine, kind="extraction", name="x", spec=EXTRACTION, actor="a")

    def save(i: int) -> int:
        spec = copy.deepcopy(EXTRACTION)
        spec["chunk_size"] = 2000 + i
        return scripts.save_script(
            etlx_engine, kind="extraction", name="x", spec=spec, actor=f"user{i}"
        ).version

    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = sorted(pool.map(save, range(6)))
    assert versions == [2, 3, 4, 5, 6, 7]
    assert scripts.get_script(etlx_engine, "x").latest_version == 7
    assert len(_events(etlx_engine, action="script.save")) == 6

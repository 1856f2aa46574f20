"""Every payload of the bad-input corpus is rejected with an error at its expected path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from spec_world import make_world

from etl_express.errors import ValidationFailed
from etl_express.settings import reset_settings_cache
from etl_express.spec import StaticContext, parse_script, parse_task

CORPUS = Path(__file__).parent / "bad_inputs"
GOOD = Path(__file__).parent / "good_inputs"
CASES = sorted(CORPUS.glob("*.yaml"))


def _payload(case: dict[str, Any]) -> Any:
    payload = case["payload"]
    grow = case.get("repeat")
    if grow:
        payload = dict(payload)
        payload[grow["field"]] = grow["prefix"] + grow["char"] * grow["count"]
    return payload


def _validate(kind: str, payload: Any, ctx: StaticContext) -> None:
    if kind == "task":
        parse_task(payload, ctx)
    else:
        parse_script(kind, payload, ctx)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    reset_settings_cache()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings_cache()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_rejected_at_path(
    path: Path, world: StaticContext, settings_env: pytest.MonkeyPatch
) -> None:
    case = yaml.safe_load(path.read_text("utf-8"))
    for name, value in (case.get("settings") or {}).items():
        settings_env.setenv(f"ETLX_{name.upper()}", str(value).lower())
    reset_settings_cache()
    with pytest.raises(ValidationFailed) as failed:
        _validate(case["kind"], _payload(case), world)
    errors = failed.value.errors
    paths = [e.path for e in errors]
    assert case["expect_path"] in paths, [e.as_dict() for e in errors]
    hit = next(e for e in errors if e.path == case["expect_path"])
    if "expect_message" in case:
        assert case["expect_message"] in hit.message, hit.message
    assert all(e.message and e.message[0] != " " for e in errors)


GOOD_CASES = sorted(GOOD.glob("*.yaml"))


@pytest.mark.parametrize("path", GOOD_CASES, ids=[p.stem for p in GOOD_CASES])
def test_good_inputs_pass(path: Path) -> None:
    case = yaml.safe_load(path.read_text("utf-8"))
    _validate(case["kind"], case["payload"], make_world(is_admin=case.get("admin", False)))

"""Helpers shared by the API integration tests and the browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "include" / "scripts" / "demo"
API = "/etl-express/api/v1"


def demo_scripts(suffix: str) -> list[dict[str, Any]]:
    """The demo scripts as API bodies, renamed with `suffix` so tests do not collide."""
    bodies = []
    for path in sorted(DEMO.glob("0*.yaml")):
        doc = yaml.safe_load(path.read_text())
        spec = doc["spec"]
        if doc["kind"] == "transformation":
            for item in spec["inputs"]:
                item["script"] = f"{item['script']}_{suffix}"
        bodies.append({"kind": doc["kind"], "name": f"{doc['name']}_{suffix}", "spec": spec})
    return bodies


def demo_task(suffix: str) -> dict[str, Any]:
    spec = yaml.safe_load((DEMO / "10_task_demo_customers.yaml").read_text())["spec"]
    spec["name"] = f"Demo customers {suffix}"
    spec["slug"] = f"demo_customers_{suffix}"
    spec["schedule"] = None
    for ref in spec["scripts"].values():
        for item in ref if isinstance(ref, list) else [ref]:
            item["name"] = f"{item['name']}_{suffix}"
    return spec


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check` until true; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(1)
    raise AssertionError(f"{what} did not happen within {timeout} s")

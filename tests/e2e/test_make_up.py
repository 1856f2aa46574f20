"""`etlx up` (what `make up` runs) from nothing to a healthy instance, twice, then down."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from etl_express.runtime import processes
from etl_express.runtime.databases import embedded_pid
from etl_express.runtime.health import free_port
from etl_express.runtime.paths import StateDir
from etl_express.runtime.secrets import read_env_file

ETLX = str(Path(sys.executable).parent / "etlx")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ETLX, *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_up_is_healthy_idempotent_and_down_stops_everything(
    tmp_path: Path, test_output_dir: Path
) -> None:
    home = tmp_path / "etlx"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETLX_", "AIRFLOW"))}
    env.update({"ETLX_HOME": str(home), "ETLX_PORT": str(port)})
    state = StateDir(home)
    try:
        started = time.monotonic()
        first = _run(["up"], env)
        (test_output_dir / "make_up.log").write_text(first.stdout + first.stderr)
        assert first.returncode == 0, first.stdout + first.stderr
        wall = time.monotonic() - started

        credentials = read_env_file(state.credentials_file)
        assert credentials["ETLX_URL"] == f"http://localhost:{port}"
        assert credentials["ETLX_ADMIN_USER"] == "admin"
        assert credentials["ETLX_ADMIN_PASSWORD"] in first.stdout

        base = f"http://127.0.0.1:{port}"
        health = httpx.get(f"{base}/api/v2/monitor/health", timeout=30).json()
        assert {part: health[part]["status"] for part in health} == {
            "metadatabase": "healthy",
            "scheduler": "healthy",
            "triggerer": "healthy",
            "dag_processor": "healthy",
        }
        token = httpx.post(
            f"{base}/auth/token",
            json={"username": "admin", "password": credentials["ETLX_ADMIN_PASSWORD"]},
            timeout=30,
        )
        assert token.status_code in (200, 201), token.text
        assert (
            httpx.post(
                f"{base}/auth/token", json={"username": "admin", "password": "wrong"}, timeout=30
            ).status_code
            == 401
        )

        pids = {name: processes.read_pid(state, name) for name in processes.COMPONENTS}
        assert all(pids.values()), pids
        second = _run(["up"], env)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert {name: processes.read_pid(state, name) for name in processes.COMPONENTS} == pids
        (test_output_dir / "make_up_timing.txt").write_text(f"first up: {wall:.1f} s\n")
    finally:
        down = _run(["down"], env)
    assert down.returncode == 0, down.stderr
    assert all(processes.read_pid(state, name) is None for name in processes.COMPONENTS)
    assert embedded_pid(state) is None
    assert not any(processes.alive(pid) for pid in pids.values() if pid)

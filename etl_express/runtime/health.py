"""Waiting until an Airflow instance answers and all its components report healthy."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from etl_express.errors import ConfigError


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1" if host in ("localhost",) else host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch_health(base_url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=5) as response:
            data = json.load(response)
            return data if isinstance(data, dict) else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def unhealthy_parts(health: dict[str, object] | None, required: tuple[str, ...]) -> list[str]:
    if health is None:
        return ["api-server"]
    bad = []
    for part in required:
        status = health.get(part)
        if not isinstance(status, dict) or status.get("status") != "healthy":
            bad.append(part)
    return bad


def wait_healthy(
    base_url: str,
    required: tuple[str, ...],
    timeout: float,
    still_alive: Callable[[], str | None] = lambda: None,
) -> float:
    """Poll the health endpoint; returns seconds waited. `still_alive` names a dead component."""
    start = time.monotonic()
    bad: list[str] = ["api-server"]
    while time.monotonic() - start < timeout:
        dead = still_alive()
        if dead:
            raise ConfigError(f"the Airflow {dead} exited during start-up")
        bad = unhealthy_parts(fetch_health(base_url), required)
        if not bad:
            return time.monotonic() - start
        time.sleep(1)
    raise ConfigError(
        f"Airflow did not become healthy within {timeout:.0f} s (still waiting for: "
        f"{', '.join(bad)})"
    )

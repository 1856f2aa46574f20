"""Background processes with pid and log files under ``$ETLX_HOME`` (no supervisor needed)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from etl_express.runtime.paths import StateDir

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


@dataclass(frozen=True)
class Component:
    name: str
    pid: int
    log: Path


def _pidfile(state: StateDir, name: str) -> Path:
    return state.pids / f"{name}.pid"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not running any more. The state follows the command name,
    # which may hold spaces and parentheses ("(airflow api_ser)"): read after the last ")".
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return status != "Z"


def read_pid(state: StateDir, name: str) -> int | None:
    try:
        pid = int(_pidfile(state, name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if alive(pid) else None


def start(state: StateDir, name: str, argv: Sequence[str], env: dict[str, str]) -> Component:
    log = state.logs / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=state.root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: `down` stops the component's children too
        )
    _pidfile(state, name).write_text(f"{proc.pid}\n")
    return Component(name=name, pid=proc.pid, log=log)


def stop(state: StateDir, name: str, timeout: float = 30) -> bool:
    """Stop a component and its process group. Returns whether something was running."""
    pid = read_pid(state, name)
    _pidfile(state, name).unlink(missing_ok=True)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.2)
    if alive(pid):
        _signal_group(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"

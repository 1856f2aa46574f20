"""`make down` and `etlx status`: stop, by pid, what `make up` started; show what runs."""

from __future__ import annotations

from etl_express.runtime import processes
from etl_express.runtime.databases import embedded_pid, stop_embedded
from etl_express.runtime.health import fetch_health
from etl_express.runtime.paths import StateDir
from etl_express.settings import get_settings


def run_down() -> int:
    state = StateDir(get_settings().home)
    stopped = [name for name in reversed(processes.COMPONENTS) if processes.stop(state, name)]
    if stop_embedded(state):
        stopped.append("postgresql")
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def run_status() -> int:
    settings = get_settings()
    state = StateDir(settings.home)
    for name in processes.COMPONENTS:
        pid = processes.read_pid(state, name)
        print(f"{name:14} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    pg = embedded_pid(state)
    print(f"{'postgresql':14} {'running (pid ' + str(pg) + ')' if pg else 'stopped or external'}")
    health = fetch_health(settings.url)
    print(f"health: {health if health is not None else 'api-server not answering'}")
    return 0 if health is not None else 1

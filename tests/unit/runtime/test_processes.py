from __future__ import annotations

import os
import subprocess
import sys

from etl_express.runtime import processes

# Names like Celery's "[celeryd: celery@w1:MainProcess]" or "airflow api_server": the process
# state in /proc/<pid>/stat comes after a command name with spaces and parentheses.
RENAME = "import ctypes, sys; ctypes.CDLL(None).prctl(15, b'[x: a) b]', 0, 0, 0); {rest}"


def test_a_running_process_with_spaces_in_its_name_is_alive() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", RENAME.format(rest="sys.stdin.read()")], stdin=subprocess.PIPE
    )
    try:
        assert processes.alive(child.pid)
    finally:
        child.communicate(b"")


def test_an_unreaped_child_with_spaces_in_its_name_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", RENAME.format(rest="pass")])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, left as a zombie
    assert not processes.alive(child.pid)
    child.wait()
    assert not processes.alive(child.pid)

"""Where things live: the repository (DAGs, plugins, demo) and the state directory of `make up`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
PLUGINS_DIR = REPO_ROOT / "plugins"
INCLUDE_DIR = REPO_ROOT / "include"


@dataclass(frozen=True)
class StateDir:
    """Layout of ``$ETLX_HOME`` (default ``.etlx/``)."""

    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.env"

    @property
    def credentials_file(self) -> Path:
        return self.root / "credentials"

    @property
    def runtime_env_file(self) -> Path:
        return self.root / "runtime.env"

    def ensure(self) -> None:
        for path in (self.root, self.airflow_home, self.logs, self.pids):
            path.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)

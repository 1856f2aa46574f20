"""One-time preparation of an Airflow instance: config file, migrations, admin user.

Shared by `make up` and by the test fixture that boots a real api-server, so both run the
same steps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from etl_express.errors import ConfigError
from etl_express.runtime.airflow_env import write_webserver_config
from etl_express.runtime.databases import libpq_url
from etl_express.runtime.processes import tail

VENV_BIN = Path(sys.executable).parent


def airflow_command(*args: str) -> list[str]:
    return [str(VENV_BIN / "airflow"), *args]


def with_venv_path(env: dict[str, str]) -> dict[str, str]:
    """Airflow starts helpers by running `airflow` from PATH: our venv must come first."""
    return {**env, "PATH": f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"}


def run_airflow(args: list[str], env: dict[str, str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        result = subprocess.run(
            airflow_command(*args),
            env=with_venv_path(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        raise ConfigError(
            f"{what} failed (exit {result.returncode}); last lines of {log}:\n{tail(log)}"
        )


def admin_exists(metadata_url: str, username: str) -> bool:
    with psycopg.connect(libpq_url(metadata_url), connect_timeout=5) as conn:
        row = conn.execute("SELECT 1 FROM ab_user WHERE username = %s", (username,)).fetchone()
    return row is not None


def prepare_airflow(
    airflow_home: Path,
    env: dict[str, str],
    *,
    metadata_url: str,
    admin_user: str,
    admin_password: str,
    log: Path,
    reset_password: bool = False,
) -> None:
    write_webserver_config(airflow_home)
    run_airflow(["db", "migrate"], env, log, "migrating Airflow's metadata database")
    if not admin_exists(metadata_url, admin_user):
        run_airflow(
            [
                "users",
                "create",
                "--username",
                admin_user,
                # `--password=…`: a generated password may start with "-", which argparse
                # would otherwise read as an option.
                f"--password={admin_password}",
                "--role",
                "Admin",
                "--email",
                f"{admin_user}@etl-express.local",
                "--firstname",
                "ETL-Express",
                "--lastname",
                "Admin",
            ],
            env,
            log,
            f"creating the admin user {admin_user!r}",
        )
    elif reset_password:
        run_airflow(
            ["users", "reset-password", "--username", admin_user, f"--password={admin_password}"],
            env,
            log,
            f"setting the password of {admin_user!r} from ETLX_ADMIN_PASSWORD",
        )

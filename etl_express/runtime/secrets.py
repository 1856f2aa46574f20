"""Secrets of one instance: generated once, kept in ``$ETLX_HOME/secrets.env`` (mode 0600).

A secret that goes missing from an existing file is an error, not a reason to make a new one:
a new Fernet key would make every stored connection password unreadable, a new JWT secret
would log everyone out, a new pseudonym key would break joins across runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from etl_express.errors import ConfigError

REQUIRED = (
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "ETLX_ADMIN_PASSWORD",
    "ETLX_PSEUDONYM_KEY",
)


@dataclass(frozen=True)
class InstanceSecrets:
    fernet_key: str
    jwt_secret: str
    api_secret_key: str
    admin_password: str
    pseudonym_key: str

    def __repr__(self) -> str:  # never print secret material
        return "InstanceSecrets(****)"


def _generate() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(48),
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(48),
        "ETLX_ADMIN_PASSWORD": secrets.token_urlsafe(12),
        "ETLX_PSEUDONYM_KEY": secrets.token_hex(32),
    }


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: expected NAME=value, got {line[:40]!r}")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def write_env_file(path: Path, values: dict[str, str], header: str) -> None:
    tmp = path.with_suffix(".tmp")
    lines = [f"# {header}"] + [f"{key}='{value}'" for key, value in values.items()]
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)


def load_or_create(path: Path, admin_password_override: str | None = None) -> InstanceSecrets:
    if path.exists():
        values = read_env_file(path)
        missing = [name for name in REQUIRED if not values.get(name)]
        if missing:
            raise ConfigError(
                f"{path} lacks {', '.join(missing)}. Restore the value(s) from a backup, or "
                f"delete {path} to generate new secrets (stored connection passwords and "
                "pseudonyms made with the old keys will no longer match)."
            )
    else:
        values = _generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_env_file(path, values, "ETL-Express secrets, generated once by `make up`. Keep.")
    if admin_password_override:
        values["ETLX_ADMIN_PASSWORD"] = admin_password_override
    return InstanceSecrets(
        fernet_key=values["AIRFLOW_FERNET_KEY"],
        jwt_secret=values["AIRFLOW_JWT_SECRET"],
        api_secret_key=values["AIRFLOW_API_SECRET_KEY"],
        admin_password=values["ETLX_ADMIN_PASSWORD"],
        pseudonym_key=values["ETLX_PSEUDONYM_KEY"],
    )

"""One typed settings object, read from ``ETLX_*`` environment variables.

`make up` writes the values it chose (embedded database URLs, ports) to
``$ETLX_HOME/runtime.env``; they are read from there when the environment does not set them,
so the CLI and the Airflow components started by `make up` agree without extra exports.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(os.environ.get("ETLX_HOME", ".etlx")).resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ETLX_",
        env_file=str(_default_home() / "runtime.env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    home: Path = Field(default_factory=_default_home, description="State directory of `make up`.")
    host: str = Field("127.0.0.1", description="Address the Airflow API server binds to.")
    port: int = Field(8080, ge=1, le=65535, description="Port of the Airflow API server.")
    public_url: str | None = Field(None, description="URL users open; default http://host:port.")

    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the ETL-Express database (registry, outbox, audit)."
    )
    airflow_database_url: str | None = Field(
        None, description="SQLAlchemy URL of Airflow's metadata database."
    )
    demo_database_url: str | None = Field(
        None, description="SQLAlchemy URL of the demo source database."
    )

    admin_user: str = Field("admin", min_length=1, description="Name of the admin user.")
    admin_password: SecretStr | None = Field(
        None, description="Admin password; generated once into $ETLX_HOME when unset."
    )

    staging_dir: Path | None = Field(None, description="Parquet staging between stages.")
    staging_compression: Literal["none", "lz4", "snappy", "zstd"] | None = Field(
        None,
        description="Compression of staged Parquet chunks; default lz4 on a local directory, "
        "zstd on an object store (ETLX_STAGING_URL).",
    )
    transform_memory_mb: int = Field(
        256, ge=64, description="Memory a transformation (DuckDB) may use before it spills to disk."
    )
    allow_python_transforms: bool = Field(
        False, description="Allow admin-only Python transformation scripts."
    )
    pseudonym_key_conn_id: str = Field(
        "etlx_pseudonym_key", description="Airflow connection holding the HMAC key (password)."
    )

    @field_validator("database_url", "airflow_database_url", "demo_database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+", "postgres://")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user:pass@host:port/db)")
        return value

    @property
    def url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "127.0.0.1", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def staging_path(self) -> Path:
        return self.staging_dir or self.home / "staging"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()

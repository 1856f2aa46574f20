"""Upload script: where approved batches go, with options per destination kind."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, ValidationError

from etl_express.errors import FieldError
from etl_express.spec.common import ConnId, ShortText, StrictModel
from etl_express.spec.context import ValidationContext
from etl_express.spec.paths import LOWER_IDENT_HINT, field_errors, hinted

Ident = Annotated[
    str,
    StringConstraints(pattern=hinted(r"^[a-z_][a-z0-9_]{0,62}$", LOWER_IDENT_HINT)),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class MlflowOptions(StrictModel):
    experiment_name: Text
    artifact_path: Annotated[
        str,
        StringConstraints(
            pattern=hinted(
                r"^[A-Za-z0-9_.\-/]{1,200}$",
                "must be a relative artifact path (letters, digits, _ . - /)",
            )
        ),
    ] = "data"
    format: Literal["parquet", "csv"] = "parquet"
    log_dataset: bool = Field(True, description="Also log the batch as an MLflow dataset input.")


class S3ParquetOptions(StrictModel):
    bucket: Annotated[
        str,
        StringConstraints(
            pattern=hinted(
                r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$",
                "must be an S3 bucket name (3-63 lowercase letters, digits, . -)",
            )
        ),
    ]
    prefix: Annotated[
        str,
        StringConstraints(
            pattern=hinted(
                r"^[A-Za-z0-9!_.*'()/\-]{0,512}$",
                "must be an S3 key prefix of safe characters (letters, digits, ! _ . * ' ( ) / -)",
            )
        ),
    ] = ""
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"


class PostgresTableOptions(StrictModel):
    schema_name: Ident = Field("public", alias="schema")
    table: Ident
    mode: Literal["append", "replace"] = "append"


class LocalFileOptions(StrictModel):
    directory: Annotated[
        str,
        StringConstraints(
            pattern=hinted(
                r"^/[^\x00]{0,1023}$", "must be an absolute directory path (starting with /)"
            )
        ),
    ]
    format: Literal["parquet", "csv"] = "parquet"


OPTIONS: Final[dict[str, type[StrictModel]]] = {
    "mlflow": MlflowOptions,
    "s3_parquet": S3ParquetOptions,
    "postgres_table": PostgresTableOptions,
    "local_file": LocalFileOptions,
}
NEEDS_CONNECTION: Final = {"mlflow", "s3_parquet", "postgres_table"}


class UploadSpec(StrictModel):
    destination: Literal["mlflow", "s3_parquet", "postgres_table", "local_file"]
    connection_id: ConnId | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    description: ShortText = ""

    def typed_options(self) -> StrictModel:
        return OPTIONS[self.destination].model_validate(self.options)


def check_upload(spec: UploadSpec, ctx: ValidationContext) -> list[FieldError]:
    errors: list[FieldError] = []
    try:
        spec.typed_options()
    except ValidationError as exc:
        model = OPTIONS[spec.destination]
        errors += field_errors(exc, spec.options, "$.options", model=model)
    if spec.destination in NEEDS_CONNECTION and spec.connection_id is None:
        errors.append(
            FieldError("$.connection_id", f"connection_id is required for {spec.destination}")
        )
    if spec.destination == "local_file" and spec.connection_id is not None:
        errors.append(FieldError("$.connection_id", "connection_id is not used by local_file"))
    if spec.connection_id and ctx.connection_exists(spec.connection_id) is False:
        errors.append(
            FieldError(
                "$.connection_id",
                f"connection_id names unknown connection {spec.connection_id!r}; create it in "
                "Airflow (Admin → Connections) or pick an existing one",
            )
        )
    return errors

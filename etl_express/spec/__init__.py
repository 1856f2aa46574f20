"""Typed, validated specs of the five script kinds and of ETL tasks.

    from etl_express.spec import ScriptKind, parse_script, parse_task, ValidationContext

`parse_script` / `parse_task` raise `etl_express.errors.ValidationFailed` whose FieldErrors
carry JSON paths into the payload as written (``$.fields.email.steps[1].pattern``).
Importing this package is light (no GX, Presidio, polars or database drivers).
"""

from __future__ import annotations

from etl_express.spec.common import ColumnSchema, ScriptRef
from etl_express.spec.context import QueryRejected, StaticContext, ValidationContext
from etl_express.spec.extraction import ExtractionSpec
from etl_express.spec.field_rules import FieldRulesSpec
from etl_express.spec.kinds import ScriptKind
from etl_express.spec.parse import MODELS, ScriptSpec, dump_spec, parse_script, parse_task
from etl_express.spec.task import TaskSpec
from etl_express.spec.transformation import TransformationSpec
from etl_express.spec.upload import UploadSpec

__all__ = [
    "MODELS",
    "ColumnSchema",
    "ExtractionSpec",
    "FieldRulesSpec",
    "QueryRejected",
    "ScriptKind",
    "ScriptRef",
    "ScriptSpec",
    "StaticContext",
    "TaskSpec",
    "TransformationSpec",
    "UploadSpec",
    "ValidationContext",
    "dump_spec",
    "parse_script",
    "parse_task",
]

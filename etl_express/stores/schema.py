"""Tables of the ETL-Express database (SQLAlchemy Core).

This is the shape the code queries. The migrations under ``etl_express/stores/migrations`` are
what creates it; a test checks the two agree, so change both together.

Our database is separate from Airflow's metadata database: Airflow owns its own schema and
upgrades it on its own schedule, we must never depend on its tables.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTBOX_SCHEMA: Final = "outbox"
VERSION_TABLE: Final = "etlx_alembic_version"

SCRIPT_KINDS: Final = ("extraction", "field_rules", "transformation", "anonymization", "upload")
TASK_STATES: Final = ("draft", "active", "paused")
RUN_STATES: Final = ("queued", "running", "success", "failed", "cancelled")
BATCH_STATES: Final = (
    "processing",
    "ready_for_review",
    "approved",
    "uploading",
    "uploaded",
    "rejected",
    "expired",
    "cancelled",
    "failed",
    "blocked",
)
UPLOAD_STATES: Final = ("queued", "running", "succeeded", "failed", "removed")
ACTOR_KINDS: Final = ("user", "system")
SLUG_PATTERN: Final = "^[a-z0-9_]{1,60}$"

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _now() -> sa.TextClause:
    return sa.text("now()")


def _created(prefix: str = "created") -> list[sa.Column[object]]:
    return [
        sa.Column(f"{prefix}_by", sa.Text, nullable=False),
        sa.Column(
            f"{prefix}_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()
        ),
    ]


scripts = sa.Table(
    "scripts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    *_created(),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("name"),
    sa.CheckConstraint(_in("kind", SCRIPT_KINDS), name="kind"),
    sa.CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
    sa.CheckConstraint("latest_version >= 1", name="latest_version_positive"),
    sa.Index("ix_scripts_kind", "kind"),
)

script_versions = sa.Table(
    "script_versions",
    metadata,
    sa.Column(
        "script_id",
        sa.BigInteger,
        sa.ForeignKey("scripts.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("spec", JSONB, nullable=False),
    sa.Column("spec_sha256", sa.String(64), nullable=False),
    sa.Column("output_schema", JSONB, nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    *_created(),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint("spec_sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
)

etl_tasks = sa.Table(
    "etl_tasks",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("slug", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("schedule", sa.Text, nullable=True),
    sa.Column("state", sa.Text, nullable=False, server_default="draft"),
    sa.Column("retention_days", sa.Integer, nullable=False, server_default="14"),
    sa.Column("approver_must_differ", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("quasi_identifiers", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("dag_error", sa.Text, nullable=True),
    sa.Column("spec", JSONB, nullable=False),
    *_created(),
    *_created("updated"),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(_in("state", TASK_STATES), name="state"),
    sa.CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
    sa.CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
    sa.CheckConstraint("retention_days BETWEEN 1 AND 3650", name="retention_range"),
    sa.CheckConstraint("jsonb_typeof(quasi_identifiers) = 'array'", name="qi_array"),
    # A deleted task frees its name and slug for a new task; live ones must be unique.
    sa.Index(
        "uq_etl_tasks_slug_live",
        "slug",
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
    sa.Index(
        "uq_etl_tasks_name_live",
        "name",
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
    sa.Index("ix_etl_tasks_state", "state"),
)

task_scripts = sa.Table(
    "task_scripts",
    metadata,
    sa.Column(
        "task_id",
        sa.BigInteger,
        sa.ForeignKey("etl_tasks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("role", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, server_default="0"),
    sa.Column("script_id", sa.BigInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("input_name", sa.Text, nullable=True),
    sa.ForeignKeyConstraint(
        ["script_id", "version"],
        ["script_versions.script_id", "script_versions.version"],
        name="fk_task_scripts_script_version",
        ondelete="RESTRICT",
    ),
    sa.CheckConstraint(_in("role", SCRIPT_KINDS), name="role"),
    sa.CheckConstraint("position >= 0", name="position_nonneg"),
    sa.Index("ix_task_scripts_script", "script_id", "version"),
    sa.Index(
        "uq_task_scripts_input_name",
        "task_id",
        "input_name",
        unique=True,
        postgresql_where=sa.text("input_name IS NOT NULL"),
    ),
)

task_runs = sa.Table(
    "task_runs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("etl_tasks.id", ondelete="RESTRICT"), nullable=False
    ),
    sa.Column("dag_id", sa.Text, nullable=False),
    sa.Column("dag_run_id", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default="queued"),
    sa.Column("stage", sa.Text, nullable=True),
    sa.Column("error", JSONB, nullable=True),
    sa.Column("stats", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("dag_id", "dag_run_id", name="uq_task_runs_dag_run"),
    sa.CheckConstraint(_in("state", RUN_STATES), name="state"),
    sa.Index("ix_task_runs_task_started", "task_id", sa.text("started_at DESC")),
    sa.Index("ix_task_runs_started", sa.text("started_at DESC")),
)

# Rows in/out (and other counters) of each chunk a mapped stage task recorded, keyed by its
# map index: a retried chunk replaces its row, so the run's per-stage totals (task_runs.stats)
# move by the difference instead of being summed again over every chunk on each call.
task_run_chunks = sa.Table(
    "task_run_chunks",
    metadata,
    sa.Column(
        "run_id",
        sa.BigInteger,
        sa.ForeignKey("task_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("stage", sa.Text, primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("rows_in", sa.BigInteger, nullable=False),
    sa.Column("rows_out", sa.BigInteger, nullable=False),
    # The chunk's other counters (rows quarantined, privacy-gate findings), by name.
    sa.Column("counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
)

outbox_batches = sa.Table(
    "outbox_batches",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "task_id", sa.BigInteger, sa.ForeignKey("etl_tasks.id", ondelete="RESTRICT"), nullable=False
    ),
    sa.Column(
        "run_id", sa.BigInteger, sa.ForeignKey("task_runs.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("state", sa.Text, nullable=False, server_default="processing"),
    sa.Column("table_name", sa.Text, nullable=True),
    sa.Column("row_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("schema", JSONB, nullable=True),
    sa.Column("privacy_report", JSONB, nullable=True),
    sa.Column("key_version", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reviewed_by", sa.Text, nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("blocked_reason", sa.Text, nullable=True),
    sa.UniqueConstraint("table_name"),
    sa.CheckConstraint(_in("state", BATCH_STATES), name="state"),
    sa.CheckConstraint("row_count >= 0", name="row_count_nonneg"),
    sa.CheckConstraint("table_name ~ '^[a-z0-9_]{1,63}$'", name="table_name_format"),
    sa.Index("ix_outbox_batches_state", "state"),
    sa.Index("ix_outbox_batches_task_created", "task_id", sa.text("created_at DESC")),
    sa.Index(
        "ix_outbox_batches_expiry",
        "expires_at",
        postgresql_where=sa.text("state = 'ready_for_review'"),
    ),
)

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "batch_id",
        sa.BigInteger,
        sa.ForeignKey("outbox_batches.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    sa.Column("destination_kind", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default="queued"),
    sa.Column("manifest", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.CheckConstraint(_in("state", UPLOAD_STATES), name="state"),
    sa.Index("ix_uploads_batch", "batch_id"),
)

# Words of actor, action and object, split on punctuation, so "script.save" matches "save".
AUDIT_SEARCH_EXPRESSION: Final = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "coalesce(actor, '') || ' ' || coalesce(action, '') || ' ' || "
    "coalesce(object_type, '') || ' ' || coalesce(object_id, ''), "
    "'[^[:alnum:]]+', ' ', 'g'))"
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_kind", sa.Text, nullable=False, server_default="user"),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("object_type", sa.Text, nullable=False),
    sa.Column("object_id", sa.Text, nullable=True),
    sa.Column("before", JSONB, nullable=True),
    sa.Column("after", JSONB, nullable=True),
    sa.Column("details", JSONB, nullable=True),
    sa.Column("search", TSVECTOR, sa.Computed(AUDIT_SEARCH_EXPRESSION, persisted=True)),
    sa.CheckConstraint(_in("actor_kind", ACTOR_KINDS), name="actor_kind"),
    sa.CheckConstraint("char_length(action) BETWEEN 1 AND 100", name="action_length"),
    # Newest first is `id DESC` (identity order), which the primary key serves; each filter's
    # index ends in id so that a filtered page is an index range, not a sort.
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_actor", "actor", sa.text("id DESC")),
    # text_pattern_ops: the action filter is a prefix match ("task" → task.save, task.pause).
    sa.Index(
        "ix_audit_events_action",
        "action",
        sa.text("id DESC"),
        postgresql_ops={"action": "text_pattern_ops"},
    ),
    sa.Index("ix_audit_events_object", "object_type", "object_id", sa.text("id DESC")),
    sa.Index("ix_audit_events_search", "search", postgresql_using="gin"),
)

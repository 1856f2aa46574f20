"""Initial schema: registry, tasks, runs, outbox, uploads, append-only audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Audit events and script versions are history: once written, never changed. Enforced in the
# database so that no code path (nor a hand-typed psql session of the app role) can rewrite it.
IMMUTABLE_TABLES = ("audit_events", "script_versions")

REJECT_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION etlx_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def _protect(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION etlx_reject_change()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION etlx_reject_change()"
    )


def _unprotect(table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS outbox")
    op.execute(REJECT_CHANGE_FUNCTION)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_kind", sa.Text(), server_default="user", nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("object_type", sa.Text(), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                (
                    "to_tsvector('simple'::regconfig, regexp_replace("
                    "coalesce(actor, '') || ' ' || coalesce(action, '') || ' ' || "
                    "coalesce(object_type, '') || ' ' || coalesce(object_id, ''), "
                    "'[^[:alnum:]]+', ' ', 'g'))"
                ),
                persisted=True,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "actor_kind IN ('user', 'system')", name=op.f("ck_audit_events_actor_kind")
        ),
        sa.CheckConstraint(
            "char_length(action) BETWEEN 1 AND 100", name=op.f("ck_audit_events_action_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_action_at",
        "audit_events",
        ["action", sa.literal_column("at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_audit_events_actor_at",
        "audit_events",
        ["actor", sa.literal_column("at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_audit_events_at", "audit_events", [sa.literal_column("at DESC")], unique=False
    )
    op.create_index(
        "ix_audit_events_object",
        "audit_events",
        ["object_type", "object_id", sa.literal_column("at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_audit_events_search", "audit_events", ["search"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "etl_tasks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("schedule", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), server_default="draft", nullable=False),
        sa.Column("retention_days", sa.Integer(), server_default="14", nullable=False),
        sa.Column(
            "approver_must_differ", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column(
            "quasi_identifiers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("dag_error", sa.Text(), nullable=True),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "jsonb_typeof(quasi_identifiers) = 'array'", name=op.f("ck_etl_tasks_qi_array")
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9_]{1,60}$'", name=op.f("ck_etl_tasks_slug_format")),
        sa.CheckConstraint(
            "state IN ('draft', 'active', 'paused')", name=op.f("ck_etl_tasks_state")
        ),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 200", name=op.f("ck_etl_tasks_name_length")
        ),
        sa.CheckConstraint(
            "retention_days BETWEEN 1 AND 3650", name=op.f("ck_etl_tasks_retention_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_etl_tasks")),
    )
    op.create_index("ix_etl_tasks_state", "etl_tasks", ["state"], unique=False)
    op.create_index(
        "uq_etl_tasks_name_live",
        "etl_tasks",
        ["name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_etl_tasks_slug_live",
        "etl_tasks",
        ["slug"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "scripts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('extraction', 'field_rules', 'transformation', 'anonymization', 'upload')",
            name=op.f("ck_scripts_kind"),
        ),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 200", name=op.f("ck_scripts_name_length")
        ),
        sa.CheckConstraint("latest_version >= 1", name=op.f("ck_scripts_latest_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scripts")),
        sa.UniqueConstraint("name", name=op.f("uq_scripts_name")),
    )
    op.create_index("ix_scripts_kind", "scripts", ["kind"], unique=False)
    op.create_table(
        "script_versions",
        sa.Column("script_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("output_schema", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "spec_sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_script_versions_sha256_hex")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_script_versions_version_positive")),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name=op.f("fk_script_versions_script_id_scripts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("script_id", "version", name=op.f("pk_script_versions")),
    )
    op.create_table(
        "task_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("dag_id", sa.Text(), nullable=False),
        sa.Column("dag_run_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "stats",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'success', 'failed', 'cancelled')",
            name=op.f("ck_task_runs_state"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["etl_tasks.id"],
            name=op.f("fk_task_runs_task_id_etl_tasks"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
        sa.UniqueConstraint("dag_id", "dag_run_id", name="uq_task_runs_dag_run"),
    )
    op.create_index(
        "ix_task_runs_started", "task_runs", [sa.literal_column("started_at DESC")], unique=False
    )
    op.create_index(
        "ix_task_runs_task_started",
        "task_runs",
        ["task_id", sa.literal_column("started_at DESC")],
        unique=False,
    )
    op.create_table(
        "outbox_batches",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.Text(), server_default="processing", nullable=False),
        sa.Column("table_name", sa.Text(), nullable=True),
        sa.Column("row_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("schema", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("privacy_report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("key_version", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            (
                "state IN ('processing', 'ready_for_review', 'approved', 'uploading', "
                "'uploaded', 'rejected', 'expired', 'cancelled', 'failed', 'blocked')"
            ),
            name=op.f("ck_outbox_batches_state"),
        ),
        sa.CheckConstraint(
            "table_name ~ '^[a-z0-9_]{1,63}$'", name=op.f("ck_outbox_batches_table_name_format")
        ),
        sa.CheckConstraint("row_count >= 0", name=op.f("ck_outbox_batches_row_count_nonneg")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["task_runs.id"],
            name=op.f("fk_outbox_batches_run_id_task_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["etl_tasks.id"],
            name=op.f("fk_outbox_batches_task_id_etl_tasks"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_batches")),
        sa.UniqueConstraint("table_name", name=op.f("uq_outbox_batches_table_name")),
    )
    op.create_index(
        "ix_outbox_batches_expiry",
        "outbox_batches",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("state = 'ready_for_review'"),
    )
    op.create_index("ix_outbox_batches_state", "outbox_batches", ["state"], unique=False)
    op.create_index(
        "ix_outbox_batches_task_created",
        "outbox_batches",
        ["task_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_table(
        "task_scripts",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("script_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("input_name", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "role IN ('extraction', 'field_rules', 'transformation', 'anonymization', 'upload')",
            name=op.f("ck_task_scripts_role"),
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_task_scripts_position_nonneg")),
        sa.ForeignKeyConstraint(
            ["script_id", "version"],
            ["script_versions.script_id", "script_versions.version"],
            name="fk_task_scripts_script_version",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["etl_tasks.id"],
            name=op.f("fk_task_scripts_task_id_etl_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "role", "position", name=op.f("pk_task_scripts")),
    )
    op.create_index(
        "ix_task_scripts_script", "task_scripts", ["script_id", "version"], unique=False
    )
    op.create_index(
        "uq_task_scripts_input_name",
        "task_scripts",
        ["task_id", "input_name"],
        unique=True,
        postgresql_where=sa.text("input_name IS NOT NULL"),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("destination_kind", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column(
            "manifest",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'succeeded', 'failed', 'removed')",
            name=op.f("ck_uploads_state"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["outbox_batches.id"],
            name=op.f("fk_uploads_batch_id_outbox_batches"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index("ix_uploads_batch", "uploads", ["batch_id"], unique=False)
    for table in IMMUTABLE_TABLES:
        _protect(table)


def downgrade() -> None:
    for table in IMMUTABLE_TABLES:
        _unprotect(table)
    op.drop_index("ix_uploads_batch", table_name="uploads")
    op.drop_table("uploads")
    op.drop_index(
        "uq_task_scripts_input_name",
        table_name="task_scripts",
        postgresql_where=sa.text("input_name IS NOT NULL"),
    )
    op.drop_index("ix_task_scripts_script", table_name="task_scripts")
    op.drop_table("task_scripts")
    op.drop_index("ix_outbox_batches_task_created", table_name="outbox_batches")
    op.drop_index("ix_outbox_batches_state", table_name="outbox_batches")
    op.drop_index(
        "ix_outbox_batches_expiry",
        table_name="outbox_batches",
        postgresql_where=sa.text("state = 'ready_for_review'"),
    )
    op.drop_table("outbox_batches")
    op.drop_index("ix_task_runs_task_started", table_name="task_runs")
    op.drop_index("ix_task_runs_started", table_name="task_runs")
    op.drop_table("task_runs")
    op.drop_table("script_versions")
    op.drop_index("ix_scripts_kind", table_name="scripts")
    op.drop_table("scripts")
    op.drop_index(
        "uq_etl_tasks_slug_live",
        table_name="etl_tasks",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "uq_etl_tasks_name_live",
        table_name="etl_tasks",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_etl_tasks_state", table_name="etl_tasks")
    op.drop_table("etl_tasks")
    op.drop_index("ix_audit_events_search", table_name="audit_events", postgresql_using="gin")
    op.drop_index("ix_audit_events_object", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_actor_at", table_name="audit_events")
    op.drop_index("ix_audit_events_action_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.execute("DROP FUNCTION IF EXISTS etlx_reject_change()")
    # Per-batch tables live there; going to base removes every trace of ETL-Express.
    op.execute("DROP SCHEMA IF EXISTS outbox CASCADE")

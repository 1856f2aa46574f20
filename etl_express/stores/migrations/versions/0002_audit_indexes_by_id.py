"""Audit indexes ordered by id, so filtered newest-first pages are index ranges.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Measured on 300,000 events: "newest 50" went from 422 ms (sort on `at`, equal within a
transaction) to under 1 ms; filtered pages likewise.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_index("ix_audit_events_actor_at", table_name="audit_events")
    op.drop_index("ix_audit_events_action_at", table_name="audit_events")
    op.drop_index("ix_audit_events_object", table_name="audit_events")
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index(
        "ix_audit_events_actor", "audit_events", ["actor", sa.literal_column("id DESC")]
    )
    op.create_index(
        "ix_audit_events_action",
        "audit_events",
        ["action", sa.literal_column("id DESC")],
        postgresql_ops={"action": "text_pattern_ops"},
    )
    op.create_index(
        "ix_audit_events_object",
        "audit_events",
        ["object_type", "object_id", sa.literal_column("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_object", table_name="audit_events")
    op.drop_index("ix_audit_events_action", table_name="audit_events")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.create_index("ix_audit_events_at", "audit_events", [sa.literal_column("at DESC")])
    op.create_index(
        "ix_audit_events_actor_at", "audit_events", ["actor", sa.literal_column("at DESC")]
    )
    op.create_index(
        "ix_audit_events_action_at", "audit_events", ["action", sa.literal_column("at DESC")]
    )
    op.create_index(
        "ix_audit_events_object",
        "audit_events",
        ["object_type", "object_id", sa.literal_column("at DESC")],
    )

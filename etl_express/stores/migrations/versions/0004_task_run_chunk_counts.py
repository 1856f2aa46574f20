"""Other per-chunk counters of a run's mapped stages (rows quarantined, privacy-gate findings).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A run's per-stage totals now carry more than rows in/out (field rules: rows quarantined;
anonymize: gate findings). A retried chunk must move those by the difference too, so each
chunk keeps what it counted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "task_run_chunks",
        sa.Column("counts", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
    )


def downgrade() -> None:
    op.drop_column("task_run_chunks", "counts")

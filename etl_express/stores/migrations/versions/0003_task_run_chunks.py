"""Per-chunk row counts of a run's mapped stages, so run tracking stays linear in chunks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Run tracking used to re-read every staged chunk's stats on each stage call (quadratic in the
chunks of a run). Each mapped call now writes its own chunk's counts here and moves the run's
per-stage totals by the difference to what that chunk recorded before (a retry counts once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_run_chunks",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("rows_in", sa.BigInteger(), nullable=False),
        sa.Column("rows_out", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["task_runs.id"],
            name=op.f("fk_task_run_chunks_run_id_task_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "stage", "chunk", name=op.f("pk_task_run_chunks")),
    )


def downgrade() -> None:
    op.drop_table("task_run_chunks")

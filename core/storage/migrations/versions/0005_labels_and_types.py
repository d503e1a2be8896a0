"""Labels and types: a task's type (task, bug, feature, epic, chore; "task" for every task
from before) and its labels, one row each in `task_label`, indexed by label for filters.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE on both backends: the server default fills every existing row.
    op.add_column("task", sa.Column("type", sa.String(), nullable=False, server_default="task"))
    op.create_table(
        "task_label",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.PrimaryKeyConstraint("task_id", "label"),
    )
    op.create_index("ix_task_label_label", "task_label", ["label", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_label_label", "task_label")
    op.drop_table("task_label")
    op.drop_column("task", "type")

"""Lossless imports (#16): a task keeps what its source had with no agentdeck home in
`task.meta` (JSON, `{}` for every task from before), and its non-blocking relations in
`task_link`: to another task of the board (`target_id`) or to something outside it
(`target_ref` only, e.g. an ephemeral beads wisp or a deleted Claude Code task).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("task", sa.Column("meta", _JSON, nullable=True))
    op.create_table(
        "task_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_ref", sa.String(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.ForeignKeyConstraint(["target_id"], ["task.id"]),
    )
    op.create_index("ix_task_link_task", "task_link", ["task_id"])
    op.create_index("ix_task_link_target", "task_link", ["target_id"])


def downgrade() -> None:
    op.drop_index("ix_task_link_target", "task_link")
    op.drop_index("ix_task_link_task", "task_link")
    op.drop_table("task_link")
    op.drop_column("task", "meta")

"""Bounded lists: indexes that let a board's first page and its most recent finished work be
read without sorting every task.

`ix_task_order` (board, priority, id) is the order `task list` pages in: its first page walks
the index and stops after a page, where it sorted the whole board before (26 ms at 100,000
tasks on SQLite, growing with the board). `ix_task_finished` (board, status, completed_at)
gives the report's most recently finished tasks the same way.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_order", "task", ["board_id", "priority", "id"])
    op.create_index("ix_task_finished", "task", ["board_id", "status", "completed_at"])


def downgrade() -> None:
    op.drop_index("ix_task_finished", "task")
    op.drop_index("ix_task_order", "task")

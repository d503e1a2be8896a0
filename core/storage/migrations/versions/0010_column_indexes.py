"""Board columns a window at a time: indexes in each column's display order, so the console
reads any window of a 100,000-task column without sorting the column.

`ix_task_column` (board, status, priority, number, open_deps) orders Ready, Blocked, In
progress and each half of Needs human by priority then number (`open_deps` at the end tells
Ready from Blocked inside the index). `ix_task_column_finished` (board, status, when it
finished, else when it last changed, number) orders Done and Failed newest first. Measured on
the 100,000-task bench board (SQLite): a page of Done 209 -> 9 ms, a keyset page in the
middle of Ready 179 -> 14 ms.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_task_column", "task", ["board_id", "status", "priority", "number", "open_deps"]
    )
    op.create_index(
        "ix_task_column_finished",
        "task",
        ["board_id", "status", sa.text("coalesce(completed_at, updated_at)"), "number"],
    )


def downgrade() -> None:
    op.drop_index("ix_task_column_finished", "task")
    op.drop_index("ix_task_column", "task")

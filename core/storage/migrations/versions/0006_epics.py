"""Epics: a parent task waits on its unfinished children as it waits on its blockers.

`task.open_deps` now counts every unfinished task a task waits on: its blockers (`dependency`)
and its children (`parent_id`). Tasks from before this revision are recounted, so an epic with
open children leaves the ready queue and is no longer claimable. `ix_task_parent` lets a board
read its epics' progress (children done of children) without scanning every task.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The same count `agentdeck.core.tasks.recount_open_deps` makes, written out here so this
# revision keeps meaning what it meant when the code moves on.
_RECOUNT = (
    "UPDATE task SET open_deps ="
    " (SELECT count(*) FROM dependency d JOIN task b ON b.id = d.blocker_id"
    "  WHERE d.task_id = task.id AND b.status NOT IN ('done', 'cancelled'))"
    " + (SELECT count(*) FROM task c"
    "  WHERE c.parent_id = task.id AND c.status NOT IN ('done', 'cancelled'))"
)
_RECOUNT_BLOCKERS_ONLY = (
    "UPDATE task SET open_deps ="
    " (SELECT count(*) FROM dependency d JOIN task b ON b.id = d.blocker_id"
    "  WHERE d.task_id = task.id AND b.status NOT IN ('done', 'cancelled'))"
)


def upgrade() -> None:
    op.create_index("ix_task_parent", "task", ["parent_id", "status"])
    op.get_bind().execute(sa.text(_RECOUNT))


def downgrade() -> None:
    op.get_bind().execute(sa.text(_RECOUNT_BLOCKERS_ONLY))
    op.drop_index("ix_task_parent", "task")

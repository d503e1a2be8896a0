"""Flow: per board and minute, how scope and done-ness changed, for the burn-down, throughput
and forecast to read instead of replaying the event history; built here from the history.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("board_id", "minute"),
    )
    from agentdeck.core.storage import flow

    conn = op.get_bind()
    for (board_id,) in conn.execute(sa.text("SELECT id FROM board")).all():
        flow.rebuild(conn, board_id, hours=False)  # flow_hour comes in 0009


def downgrade() -> None:
    op.drop_table("flow")

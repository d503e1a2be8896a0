"""Spend: each board's counted usage per hour, agent and model, so the cost chart and the
usage totals sum a few rows per active hour instead of every usage row (over a second at
1,000,000 tasks); filled here from the usage table.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("gpu_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("board_id", "hour", "agent_id", "model"),
    )
    from agentdeck.core.storage import spend

    conn = op.get_bind()
    for (board_id,) in conn.execute(sa.text("SELECT id FROM board")).all():
        spend.rebuild(conn, board_id)


def downgrade() -> None:
    op.drop_table("spend")

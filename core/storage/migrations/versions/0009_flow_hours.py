"""Flow per hour: the per-minute rollup's sums kept per hour too, so the burn-down of a board
that has run for weeks groups a few thousand hour rows instead of ~85,000 minute rows (60
days of steady work); filled here from the minute rows.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_hour",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"]),
        sa.PrimaryKeyConstraint("board_id", "hour"),
    )
    # Minutes are positive integers: `/` truncates on both backends.
    op.execute(
        "INSERT INTO flow_hour (board_id, hour, scope, done) "
        "SELECT board_id, minute / 60, sum(scope), sum(done) FROM flow "
        "GROUP BY board_id, minute / 60"
    )


def downgrade() -> None:
    op.drop_table("flow_hour")

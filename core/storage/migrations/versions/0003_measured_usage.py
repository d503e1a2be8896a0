"""Measured usage: where each usage row's figures came from (reported by the agent, or
measured by its runtime's OpenTelemetry) with the figures as given, the telemetry points
received (to know a resent batch and turn cumulative totals into deltas), and the receiver's
refused requests per day and reason.

Rows from before keep their meaning: reported, with the figures as given equal to what counts.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import agentdeck.core.storage.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "usage", sa.Column("source", sa.String(), nullable=False, server_default="reported")
    )
    op.add_column(
        "usage", sa.Column("raw_tokens_in", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "usage", sa.Column("raw_tokens_out", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "usage", sa.Column("raw_cost_usd", sa.Float(), nullable=False, server_default="0")
    )
    usage = sa.table(
        "usage",
        *(sa.column(c) for c in ("tokens_in", "tokens_out", "cost_usd")),
        *(sa.column(f"raw_{c}") for c in ("tokens_in", "tokens_out", "cost_usd")),
    )
    op.get_bind().execute(
        usage.update().values(
            raw_tokens_in=usage.c.tokens_in,
            raw_tokens_out=usage.c.tokens_out,
            raw_cost_usd=usage.c.cost_usd,
        )
    )
    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(), nullable=False),
        sa.Column("signal", sa.String(), nullable=False),
        sa.Column("session", sa.String(), nullable=False),
        sa.Column("cumulative", sa.Boolean(), nullable=False),
        sa.Column("start_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.Column("end_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "series", "end_at"),
    )
    op.create_index("ix_measure_session", "measure", ["agent_id", "session", "id"])
    op.create_table(
        "refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "reason"),
    )


def downgrade() -> None:
    op.drop_table("refusal")
    op.drop_index("ix_measure_session", "measure")
    op.drop_table("measure")
    for column in ("raw_cost_usd", "raw_tokens_out", "raw_tokens_in", "source"):
        op.drop_column("usage", column)

"""Credentials: each member's token hash, each board's agents mode, each event's way of
authenticating its actor, and a folded name for case- and width-insensitive look-ups.

Boards from before credentials get `agents_mode = "named"`: their members hold no tokens yet,
so agents keep working by name while humans fetch a credential (`agentdeck login`).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (SQLite adds and drops columns natively since 3.35),
    # so no table is copied and nothing that refers to it is disturbed.
    op.add_column(
        "board", sa.Column("agents_mode", sa.String(), nullable=False, server_default="named")
    )
    op.add_column("agent", sa.Column("token_hash", sa.String(), nullable=True))
    op.add_column("agent", sa.Column("name_key", sa.String(), nullable=False, server_default=""))
    op.create_index("ix_agent_token_hash", "agent", ["token_hash"], unique=True)
    op.create_index("ix_agent_name_key", "agent", ["board_id", "name_key"])
    op.add_column("event", sa.Column("auth", sa.String(), nullable=False, server_default=""))
    conn = op.get_bind()
    agents = sa.table(
        "agent",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("name_key", sa.String()),
    )
    for row in conn.execute(sa.select(agents.c.id, agents.c.name)).all():
        conn.execute(agents.update().where(agents.c.id == row.id).values(name_key=_fold(row.name)))


def downgrade() -> None:
    op.drop_column("event", "auth")
    op.drop_index("ix_agent_name_key", "agent")
    op.drop_index("ix_agent_token_hash", "agent")
    op.drop_column("agent", "name_key")
    op.drop_column("agent", "token_hash")
    op.drop_column("board", "agents_mode")

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
    with op.batch_alter_table("board") as batch:
        batch.add_column(
            sa.Column("agents_mode", sa.String(), nullable=False, server_default="named")
        )
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(), nullable=True))
        batch.add_column(sa.Column("name_key", sa.String(), nullable=False, server_default=""))
        batch.create_index("ix_agent_token_hash", ["token_hash"], unique=True)
        batch.create_index("ix_agent_name_key", ["board_id", "name_key"])
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("auth", sa.String(), nullable=False, server_default=""))
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
    with op.batch_alter_table("event") as batch:
        batch.drop_column("auth")
    with op.batch_alter_table("agent") as batch:
        batch.drop_index("ix_agent_name_key")
        batch.drop_index("ix_agent_token_hash")
        batch.drop_column("name_key")
        batch.drop_column("token_hash")
    with op.batch_alter_table("board") as batch:
        batch.drop_column("agents_mode")

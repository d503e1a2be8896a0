"""Initial schema: boards, agents, tasks, dependencies, events, usage, budgets, messages,
checkpoints, and the full-text knowledge index (FTS5 on SQLite, tsvector on PostgreSQL).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import agentdeck.core.storage.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("goal", sa.String(), nullable=False),
        sa.Column("due_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.Column("lead", sa.String(), nullable=True),
        sa.Column("require_verification", sa.Boolean(), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column(
            "skills",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("supervisor", sa.String(), nullable=True),
        sa.Column("last_heartbeat", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.Column("current_task_id", sa.Integer(), nullable=True),
        sa.Column("active_form", sa.String(), nullable=False),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("board_id", "name"),
    )
    op.create_table(
        "budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("soft", sa.Float(), nullable=True),
        sa.Column("hard", sa.Float(), nullable=True),
        sa.Column("used", sa.Float(), nullable=False),
        sa.Column("soft_warned", sa.Boolean(), nullable=False),
        sa.Column("hard_hit", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("board_id", "scope", "subject", "metric"),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("criteria", sa.String(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "required_skills",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("estimate_hours", sa.Float(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("active_form", sa.String(), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
        sa.Column("verification", sa.String(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("lease_expires_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("open_deps", sa.Integer(), nullable=False),
        sa.Column("escalation_reason", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("started_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.Column("completed_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.Column("updated_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("board_id", "number"),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_claim",
            ["board_id", "status", "open_deps", "assignee_id", "priority", "id"],
            unique=False,
        )
        batch_op.create_index("ix_task_lease", ["status", "lease_expires_at"], unique=False)
        batch_op.create_index("ix_task_external", ["board_id", "external_id"], unique=True)

    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("sha", sa.String(), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column(
            "files",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkpoint_task_id"), ["task_id"], unique=False)

    op.create_table(
        "dependency",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("blocker_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["task.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("task_id", "blocker_id"),
    )
    with op.batch_alter_table("dependency", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dependency_blocker_id"), ["blocker_id"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subkind", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_board", ["board_id", "id"], unique=False)
        batch_op.create_index("ix_event_task", ["task_id", "id"], unique=False)
        batch_op.create_index("ix_event_task_kind", ["task_id", "kind"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("read_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index("ix_message_inbox", ["agent_id", "read_at"], unique=False)

    op.create_table(
        "usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("gpu_seconds", sa.Float(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("created_at", agentdeck.core.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["board.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_board_id"), ["board_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_task_id"), ["task_id"], unique=False)
    _create_knowledge_index()


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS knowledge")
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_task_id"))
        batch_op.drop_index(batch_op.f("ix_usage_board_id"))
        batch_op.drop_index(batch_op.f("ix_usage_agent_id"))

    op.drop_table("usage")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_inbox")

    op.drop_table("message")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_task_kind")
        batch_op.drop_index("ix_event_task")
        batch_op.drop_index("ix_event_board")

    op.drop_table("event")
    with op.batch_alter_table("dependency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependency_blocker_id"))

    op.drop_table("dependency")
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoint_task_id"))

    op.drop_table("checkpoint")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_lease")
        batch_op.drop_index("ix_task_claim")

    op.drop_table("task")
    op.drop_table("budget")
    op.drop_table("agent")
    op.drop_table("board")


def _create_knowledge_index() -> None:
    """Finished tasks, indexed for full-text search; rowid/task_id is the task's id."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE knowledge USING fts5("
            "board_id UNINDEXED, title, body, tokenize='porter unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE TABLE knowledge ("
            " task_id integer PRIMARY KEY REFERENCES task(id),"
            " board_id integer NOT NULL,"
            " title text NOT NULL, body text NOT NULL,"
            " tsv tsvector GENERATED ALWAYS AS ("
            "  setweight(to_tsvector('english', title), 'A') ||"
            "  setweight(to_tsvector('english', body), 'B')) STORED)"
        )
        op.execute("CREATE INDEX ix_knowledge_tsv ON knowledge USING gin (tsv)")

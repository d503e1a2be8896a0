"""Alembic environment: runs migrations on the connection `agentdeck.core.storage.schema` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from agentdeck.core.storage import tables  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for running the alembic CLI by hand
    import sqlalchemy as sa

    connection = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect()

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

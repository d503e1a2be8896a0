"""Alembic migrations for the agentdeck schema; applied by `agentdeck.core.storage.schema.ensure_schema` on open."""

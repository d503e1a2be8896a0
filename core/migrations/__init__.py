"""Alembic migrations for the agentdeck schema; applied by `core.schema.ensure_schema` on open."""

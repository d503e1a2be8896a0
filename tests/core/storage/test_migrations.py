"""Migrations on both backends: they build exactly the tables the models declare, and a
database from a newer agentdeck is refused on PostgreSQL as on SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from agentdeck.core import Deck, SchemaError
from agentdeck.core.storage.schema import HEAD


def _ignore_fts(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """The knowledge index is built by hand in the migration (FTS5 / tsvector), not by a model."""
    return not (name or "").startswith("knowledge")


def test_migrations_build_what_the_models_declare(db_url: str) -> None:
    """A freshly migrated database has no table, column or index the models lack, or vice versa."""
    with Deck.open(db_url, create=True) as deck, deck.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _ignore_fts})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_fresh_database_records_the_head_revision(db_url: str) -> None:
    with Deck.open(db_url, create=True) as deck, deck.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def test_newer_schema_is_refused_on_every_backend(db_url: str) -> None:
    with Deck.open(db_url, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
        with deck.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer than this agentdeck knows"):
        Deck.open(db_url)

"""Opening databases: fresh ones are migrated, newer or foreign ones are refused clearly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

import agentdeck.core.storage
from agentdeck.core import Deck, NotFoundError, SchemaError
from agentdeck.core.storage.schema import HEAD, REVISIONS

MIGRATIONS = Path(agentdeck.core.storage.__file__).parent / "migrations"


def stored_revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_revisions_match_the_alembic_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [HEAD]
    chain = [s.revision for s in scripts.walk_revisions("base", "heads")]
    assert tuple(reversed(chain)) == REVISIONS


def test_fresh_database_is_migrated_to_head(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "board.db"
    with Deck.open(path, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
    assert stored_revision(path) == HEAD
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "board.db"
    with Deck.open(path, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
        deck.add_task("Build the login form", actor="ann")
    with Deck.open(path) as deck:
        assert [t.title for t in deck.list_tasks()] == ["Build the login form"]


def test_missing_database_without_create_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no agentdeck database"):
        Deck.open(tmp_path / "nothing.db")
    assert not (tmp_path / "nothing.db").exists()


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "board.db"
    with Deck.open(path, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
    with sqlite3.connect(path) as conn:  # as if a later agentdeck had migrated it
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaError, match="9999") as info:
        Deck.open(path)
    assert "newer" in str(info.value) and "upgrade agentdeck" in str(info.value)
    assert info.value.exit_code == 5
    assert stored_revision(path) == "9999"  # left exactly as found


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaError, match="not an agentdeck database"):
        Deck.open(path)
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["invoices"]

"""Migrations on both backends: they build exactly the tables the models declare, a database
from a newer agentdeck is refused on PostgreSQL as on SQLite, and the suite's migrated template
(`tests.backends.migrate_from_template`) is what migrating builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from agentdeck.core import Deck, InvalidTransitionError, PermissionDeniedError, SchemaError
from agentdeck.core.storage.schema import HEAD
from tests.backends import database_url, migrate_from_template


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


def _shape(url: str) -> list[object]:
    """Everything migrating builds in a database, as text without the schema's name: tables and
    columns, indexes, constraints, triggers, functions, sequences and the stored revision."""
    engine = sa.create_engine(url if "://" in url else f"sqlite:///{url}")
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                queries = ["SELECT type, name, tbl_name, sql FROM sqlite_master"]
                schema = "main"
            else:
                schema = str(conn.exec_driver_sql("SELECT current_schema()").scalar())
                queries = [
                    "SELECT table_name, column_name, ordinal_position, data_type, column_default,"
                    " is_nullable FROM information_schema.columns WHERE table_schema = :s",
                    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s",
                    "SELECT r.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
                    " JOIN pg_class r ON r.oid = c.conrelid"
                    " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = :s",
                    "SELECT r.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
                    " JOIN pg_class r ON r.oid = t.tgrelid"
                    " JOIN pg_namespace n ON n.oid = r.relnamespace"
                    " WHERE n.nspname = :s AND NOT t.tgisinternal",
                    "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p"
                    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s",
                    "SELECT sequence_name, data_type, start_value, increment"
                    " FROM information_schema.sequences WHERE sequence_schema = :s",
                ]
            queries.append("SELECT version_num FROM alembic_version")
            shape: list[object] = []
            for query in queries:
                rows = conn.execute(sa.text(query), {"s": schema}).all()
                shape.append(
                    sorted(tuple(str(v).replace(schema, "SCHEMA") for v in row) for row in rows)
                )
            return shape
    finally:
        engine.dispose()


def test_the_suites_migrated_template_is_what_migrating_builds(
    backend: str, tmp_path: Path
) -> None:
    """The `deck` fixture's database is a copy (SQLite) or a replay of the statements
    (PostgreSQL) of one migrated once: it must be what migrating an empty database builds."""
    migrated = database_url(backend, tmp_path / "migrated")
    Deck.open(migrated, create=True).close()
    copied = database_url(backend, tmp_path / "copied")
    migrate_from_template(copied)
    assert _shape(copied) == _shape(migrated)
    assert len(_shape(copied)[0]) > 20  # tables and columns (SQLite: every object) were read
    with Deck.open(copied) as deck:  # and agentdeck takes it as its own, at the head revision
        deck.create_board("WEB", "Website", actor="ann")
        assert [board.key for board in deck.list_boards()] == ["WEB"]


def test_newer_schema_is_refused_on_every_backend(db_url: str) -> None:
    with Deck.open(db_url, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
        with deck.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer than this agentdeck knows"):
        Deck.open(db_url)


def _downgrade_to_0001(deck: Deck) -> None:
    """Take a database back to the schema before credentials, as an older agentdeck left it."""
    _downgrade_to(deck, "0001")


def _downgrade_to(deck: Deck, revision: str) -> None:
    """Take a database back to `revision`'s schema, as an older agentdeck left it."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    import agentdeck.core.storage.schema as schema

    config = Config()
    config.set_main_option("script_location", str(Path(schema.__file__).parent / "migrations"))
    with deck.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_a_board_from_before_credentials_keeps_working_and_its_human_logs_in_once(
    db_url: str,
) -> None:
    """Upgrading 0001 -> 0002: the board is in named mode, its agents act by name, nobody holds
    a token, and the first human to `login` takes the board's first human credential (once)."""
    with Deck.open(db_url, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann", agents="named")
        deck.add_agent("Bob", actor="ann", kind="human")
        deck.add_agent("coder", actor="ann")
        key = deck.add_task("Old work", actor="coder").key
        _downgrade_to_0001(deck)
    with Deck.open(db_url) as upgraded:
        assert upgraded.get_board("WEB").agents == "named"
        assert upgraded.claim("coder") is not None  # an agent by name, as before
        assert upgraded.get_agent("bob").name == "Bob"  # names are compared folded
        with pytest.raises(PermissionDeniedError, match="acts only with their credential"):
            upgraded.cancel(key, actor="ann", reason="no credential yet")
        first = upgraded.login("ann", board="WEB")
        assert first.token.startswith("adk_") and first.kind == "human"
        with pytest.raises(PermissionDeniedError, match="already hold credentials"):
            upgraded.login("bob", board="WEB")
        assert (
            upgraded.cancel(key, actor="ann", reason="now with a credential").status == "cancelled"
        )


@pytest.mark.parametrize("other", ["done", "pending"])
def test_upgrading_to_0006_makes_an_older_boards_epics_wait_on_their_subtasks(
    db_url: str, other: str
) -> None:
    """A board from before 0006 counted blockers only, so an epic with open subtasks was ready
    and claimable; after the upgrade it waits on them, and completes when the last finishes."""
    with Deck.open(db_url, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann", agents="named")
        deck.add_agent("coder", actor="ann")
        epic = deck.add_task("Epic", actor="coder").key
        part = deck.add_task("Part", actor="coder", parent=epic).key
        second = deck.add_task("Second part", actor="coder", parent=epic).key
        if other == "done":
            assert deck.claim("coder", key=second) is not None
            deck.complete(second, actor="coder", result="ok", verified_by="pytest")
        _downgrade_to(deck, "0005")
        with deck.engine.connect() as conn:  # raw SQL: today's models know later columns
            waits = conn.execute(sa.text("SELECT open_deps FROM task WHERE number = 1")).scalar()
        assert waits == 0  # ready, as 0005 said
    with Deck.open(db_url) as upgraded:
        assert upgraded.get_task(epic).column == "blocked"
        with pytest.raises(InvalidTransitionError, match="epic"):
            upgraded.claim("coder", key=epic)
        assert upgraded.claim("coder", key=part) is not None
        upgraded.complete(part, actor="coder", result="ok", verified_by="pytest")
        assert upgraded.get_task(epic).status == ("done" if other == "done" else "pending")


def test_upgrading_to_0009_fills_the_hour_rollup_from_the_minutes(db_url: str) -> None:
    """A board from before 0009 had only minute rows; the upgrade sums them per hour, the same
    rows a rebuild from the events gives, so its burn-down reads the same history."""
    from agentdeck.core.storage import flow

    with Deck.open(db_url, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
        keys = [deck.add_task(f"Task {n}", actor="ann").key for n in range(3)]
        deck.cancel(keys[0], actor="ann", reason="cut")
        before = deck.burndown("WEB")
        _downgrade_to(deck, "0008")
    with Deck.open(db_url) as upgraded, upgraded.engine.connect() as conn:
        filled = conn.execute(flow.flow_hour_t.select().order_by("board_id", "hour")).all()
        conn.rollback()
        with conn.begin() as rebuilding:
            for board_id in {r.board_id for r in filled}:
                flow.rebuild(conn, board_id)
            rebuilt = conn.execute(flow.flow_hour_t.select().order_by("board_id", "hour")).all()
            rebuilding.rollback()
        assert filled and list(filled) == list(rebuilt)
        assert sum(r.scope for r in filled) == 2
        after = upgraded.burndown("WEB")
    assert [(p.open, p.scope) for p in after.points] == [(p.open, p.scope) for p in before.points]


def test_upgrading_to_0011_fills_the_spend_rollup_from_the_usage_rows(db_url: str) -> None:
    """A board from before 0011 had only usage rows; the upgrade sums them per hour, agent and
    model, so its totals and cost chart read the same figures as before."""
    from agentdeck.core.storage import spend

    with Deck.open(db_url, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann", agents="named")
        deck.add_agent("coder", actor="ann")
        key = deck.add_task("Task", actor="ann").key
        assert deck.claim("coder", key=key) is not None
        deck.record_usage(key, actor="coder", cost_usd=0.5, tokens_in=40, model="big")
        deck.record_usage(key, actor="coder", cost_usd=0.25, tokens_in=2)
        before = (deck.usage_totals("WEB"), deck.cost_over_time("WEB").total)
        _downgrade_to(deck, "0010")
    with Deck.open(db_url) as upgraded, upgraded.engine.connect() as conn:
        filled = conn.execute(spend.spend_t.select().order_by("model")).all()
        assert [(r.model, r.tokens_in) for r in filled] == [("", 2), ("big", 40)]
        after = (upgraded.usage_totals("WEB"), upgraded.cost_over_time("WEB").total)
    assert after == before

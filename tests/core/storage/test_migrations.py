"""Migrations on both backends: they build exactly the tables the models declare, and a
database from a newer agentdeck is refused on PostgreSQL as on SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from agentdeck.core import Deck, InvalidTransitionError, PermissionDeniedError, SchemaError
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

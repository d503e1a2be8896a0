"""Shared fixtures: a fresh deck on a temporary SQLite file, driven by a clock the test controls."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import Deck, DeckError

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LEASE_SECONDS = 60


class FakeClock:
    """A clock that stands still until the test advances it, so leases expire on demand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move time forward and return the new now."""
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "board.db"


@pytest.fixture
def deck(db_path: Path, clock: FakeClock) -> Iterator[Deck]:
    """An empty, migrated deck on its own SQLite file."""
    with Deck.open(db_path, create=True, clock=clock) as opened:
        yield opened


def make_web_board(deck: Deck, **board_options: Any) -> Deck:
    """Board WEB: human `ann` (creator), human `bob`, lead agent `sup`, and three workers:
    `fe` (frontend), `be` (backend, python) and `gen` (no skills)."""
    board_options.setdefault("lease_seconds", LEASE_SECONDS)
    deck.create_board("WEB", "Website", actor="ann", lead="sup", goal="Ship it", **board_options)
    deck.add_agent("bob", actor="ann", kind="human")
    deck.add_agent("fe", actor="ann", skills=["frontend"], role="frontend dev")
    deck.add_agent("be", actor="ann", skills=["backend", "python"], role="backend dev")
    deck.add_agent("gen", actor="ann")
    return deck


@pytest.fixture
def web(deck: Deck) -> Deck:
    """The deck with the WEB board and its team in place."""
    return make_web_board(deck)


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def refused(deck: Deck, db_path: Path) -> Callable[..., Any]:
    """`with refused(ErrorType, "words", ...):` asserts the block raises that error, that its
    one-line message contains every given fragment, and that the database is unchanged."""

    @contextmanager
    def check(error: type[DeckError], *fragments: str) -> Iterator[pytest.ExceptionInfo[Any]]:
        cursor = deck.max_event_id()
        versions = {
            b.key: [
                (t.key, t.version, t.status) for t in deck.list_tasks(b.key, include_cancelled=True)
            ]
            for b in deck.list_boards()
        }
        before = _dump(db_path)
        with pytest.raises(error) as info:
            yield info
        message = str(info.value)
        assert "\n" not in message
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        assert deck.max_event_id() == cursor, "a refused move wrote an event"
        assert {
            b.key: [
                (t.key, t.version, t.status) for t in deck.list_tasks(b.key, include_cancelled=True)
            ]
            for b in deck.list_boards()
        } == versions
        assert _dump(db_path) == before, "a refused move changed the database"

    return check

"""Shared fixtures: a fresh deck on each backend (a temporary SQLite file, and a fresh schema on the
PostgreSQL server `.ci/run` starts), on a time the test moves forward: a machine clock that stands
still on SQLite, the server's clock plus the test's offset on PostgreSQL (which trusts no client
clock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from agentdeck.core import Deck, DeckError
from tests.backends import BACKENDS, database_url, migrate_from_template

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LEASE_SECONDS = 60


class FakeClock:
    """Test time, moved forward on demand so leases expire: a machine clock that stands still
    (SQLite decks read it), and, for PostgreSQL decks, an offset added to the server's clock
    that grows by as much as each `advance`. `now` is the SQLite time only: on PostgreSQL,
    compare with `deck.now()` readings, which keep running."""

    def __init__(self, start: datetime = START) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move time forward and return the new (SQLite) now."""
        self.now += timedelta(seconds=seconds)
        return self.now

    def offset(self) -> timedelta:
        """How far the test has moved time: what a PostgreSQL deck adds to the server's time."""
        return self.now - self.start

    def deck_options(self) -> dict[str, Any]:
        """The `Deck.open` arguments that put a deck on this test time, on either backend."""
        return {"clock": self, "server_clock_offset_for_tests": self.offset}


# For a test whose expectations are exact times (a deadline to the microsecond, a series of
# points each at a whole day): it needs time that stands still, which only a machine clock gives,
# so it runs on SQLite alone. PostgreSQL's time is the server's and runs on during a test; the
# lease rules on it are covered by `tests/core/storage/test_server_clock.py`.
sqlite_time = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def _own_credential_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test has its own config directory (so its credential file is its own, never the
    user's), starts with no agent token in the environment, and runs `agentdeck` in-process
    (never through a resident server, which would outlive it)."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("AGENTDECK_TOKEN", raising=False)
    monkeypatch.setenv("AGENTDECK_NO_SERVER", "1")  # no resident server but test_resident's
    return config


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that uses a deck runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> str:
    """A fresh, empty database on the test's backend (a path for SQLite, a URL otherwise)."""
    return database_url(backend, tmp_path)


@pytest.fixture
def deck(db_url: str, clock: FakeClock) -> Iterator[Deck]:
    """An empty, migrated deck of its own (a copy of one migrated once: `tests.backends`)."""
    migrate_from_template(db_url)
    with Deck.open(db_url, create=True, **clock.deck_options()) as opened:
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


def _dump(deck: Deck) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every table (and the knowledge index), in key order, on either backend."""
    knowledge = (
        "SELECT rowid, board_id, title, body FROM knowledge ORDER BY rowid"
        if deck.engine.dialect.name == "sqlite"
        else "SELECT task_id, board_id, title, body FROM knowledge ORDER BY task_id"
    )
    with deck.engine.connect() as conn:
        dump = [
            (
                t.name,
                [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))],
            )
            for t in SQLModel.metadata.sorted_tables
        ]
        dump.append(("knowledge", [tuple(r) for r in conn.execute(sa.text(knowledge))]))
    return dump


@pytest.fixture
def refused(deck: Deck) -> Callable[..., Any]:
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
        before = _dump(deck)
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
        assert _dump(deck) == before, "a refused move changed the database"

    return check


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line at the end that says why tests were skipped, grouped by reason (with pytest-xdist
    the reasons come back from the workers in the same reports)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else "skipped"
        reason = str(reason).removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        parts = [
            f"{n} because {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])
        ]
        terminalreporter.write_line("skipped: " + "; ".join(parts))

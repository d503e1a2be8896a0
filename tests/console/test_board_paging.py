"""Virtual columns: the board holds a few pages of each column, never the whole board.

A column of 300 ready tasks with a page of 10: scrolling reads pages from the database as
the selection nears what is loaded, down to the last task and back up; the counts are the
database's; a filter narrows them in SQL; a change another deck makes while the column is
scrolled lands in the window (or in the counts above it); and the screen never holds more
than its pages' worth of task models.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.board_state import KEEP_PAGES, BoardFilter
from agentdeck.tui.console.screens.board import BoardScreen
from agentdeck.tui.console.widgets.column import TaskColumn
from tests.console.conftest import settle, wait_for

pytestmark = pytest.mark.anyio
PAGE = 20
BULK = 300
TALL = (140, 100)  # 18 cards a column: fewer key presses to cross it


@pytest.fixture
def bulk(other: Deck, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deck]:
    """300 more ready tasks on WEB (priority 3, after the fixture's), pages of 10."""
    other.plan(
        [{"title": f"Bulk item{n}", "priority": 3} for n in range(BULK)],
        actor="planner",
        board="WEB",
    )
    monkeypatch.setattr(BoardScreen, "page_size", PAGE)
    yield other


def board(app: AgentDeckApp) -> BoardScreen:
    assert isinstance(app.screen, BoardScreen)
    return app.screen


def ready(app: AgentDeckApp) -> TaskColumn:
    return app.screen.query_one("#col-ready", TaskColumn)


def bound(app: AgentDeckApp) -> None:
    """No more task models than a few screens' worth in any column (well short of 300)."""
    state = board(app).state
    assert PAGE * KEEP_PAGES <= state.keep <= 8 * ready(app).capacity
    assert all(len(w.tasks) <= state.keep for w in state.windows.values()), [
        (len(w.tasks), state.keep, ready(app).capacity) for w in state.windows.values()
    ]
    assert state.size() <= state.keep * len(COLUMNS) and state.size() < BULK / 2


async def scroll(
    app: AgentDeckApp, pilot: object, until: int, seen: dict[int, str] | None = None
) -> None:
    """Move the ready column's selection to position `until`, a page at a time, then a line
    at a time, letting each page read finish (checking the bound at every step); in `seen`,
    the key each position of the column showed (never two keys at one position)."""
    column = ready(app)
    for _ in range(BULK * 2):
        for i, key in enumerate(column.keys if seen is not None else ()):
            assert seen.setdefault(column.head + i, key) == key  # type: ignore[union-attr]
        distance = until - column.selected_position
        if not distance:
            return
        if abs(distance) >= column.capacity:
            key = "pagedown" if distance > 0 else "pageup"
        else:
            key = "down" if distance > 0 else "up"
        await pilot.press(key)  # type: ignore[attr-defined]
        bound(app)
        if board(app)._fetching:
            await wait_for(pilot, lambda: not board(app)._fetching)  # type: ignore[arg-type]
    raise AssertionError(f"stuck at {column.selected_position}, wanted {until}")


async def test_scrolling_reads_pages_to_the_last_task_and_back(bulk: Deck) -> None:
    app = make_app(bulk)
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        column = ready(app)
        count = bulk.column_counts("WEB")["ready"]
        assert count > BULK and column.count == count
        assert len(column.keys) == PAGE and column.selected_position == 0
        assert f"▼ {count - column.capacity} more" in str(column.query_one(".more.-below").render())
        bound(app)
        seen: dict[int, str] = {}
        await scroll(app, pilot, count - 1, seen)
        last = bulk.column_page("WEB", "ready", offset=count - 1, limit=1).tasks[0]
        assert board(app).selected_task() == last
        assert column.card(last.key) is not None  # its card is on the screen
        assert column.head > 0 and column.head + len(column.keys) == count
        above = str(column.query_one(".more.-above").render())
        assert f"▲ {count - column.capacity} more" in above
        # And back up, a line at a time for the first steps, then a page at a time.
        await pilot.press("up", "up", "up")
        assert column.selected_position == count - 4
        await scroll(app, pilot, 0, seen)
        first = bulk.column_page("WEB", "ready", limit=1).tasks[0]
        assert board(app).selected_task() == first and column.head == 0
        # Every position of the column was shown, each with the database's task for it.
        expected = [t.key for t in bulk.column_page("WEB", "ready", limit=1000).tasks]
        assert [seen[i] for i in range(count)] == expected and len(seen) == count


async def test_a_filter_narrows_the_counts_in_sql(bulk: Deck) -> None:
    app = make_app(bulk)
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        board(app).set_filter(BoardFilter(text="ITEM1"))
        # "item1", "item10".."item19" and "item100".."item199".
        await wait_for(pilot, lambda: ready(app).count == 111)
        column = ready(app)
        assert column.total == bulk.column_counts("WEB")["ready"]
        title = str(column.query_one(".column-title").render())
        assert f"111/{column.total}" in title
        assert all("item1" in board(app).state.tasks[k].title for k in column.keys)
        assert len(column.keys) == PAGE
        await scroll(app, pilot, 110)
        assert board(app).selected_task().title == "Bulk item199"  # type: ignore[union-attr]
        board(app).set_filter(BoardFilter())
        await wait_for(pilot, lambda: ready(app).count == ready(app).total)


async def test_changes_by_another_deck_apply_to_a_scrolled_column(bulk: Deck) -> None:
    app = make_app(bulk)
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        column = ready(app)
        count = column.count
        await scroll(app, pilot, 150)
        screen = board(app)
        selected = screen.selected_task()
        assert selected is not None
        head = column.head
        assert head > 0
        window = list(column.keys)
        inside = bulk.get_task(window[len(window) // 2 + 1])
        gone_above = bulk.column_page("WEB", "ready", offset=3, limit=1).tasks[0]
        # Another deck: renames a loaded task, cancels one above the window, adds one at
        # the bottom (lowest priority, newest: the column's last).
        bulk.edit_task(
            inside.key, actor="ann", expected_version=inside.version, title="Renamed elsewhere"
        )
        bulk.cancel(gone_above.key, actor="ann", reason="not needed")
        added = bulk.add_task("Added elsewhere", actor="planner", board="WEB", priority=4)
        screen.refresh_data()
        await wait_for(pilot, lambda: column.count == count)  # one gone, one added
        await wait_for(pilot, lambda: column.head == head - 1)
        assert screen.state.tasks[inside.key].title == "Renamed elsewhere"
        assert screen.selected_task() == bulk.get_task(selected.key)  # the selection stayed
        rank = bulk.column_rank("WEB", "ready", selected)
        assert column.selected_position == rank
        assert added.key not in column.keys  # far below the window: only counted
        await scroll(app, pilot, count - 1)
        assert screen.selected_task() == bulk.get_task(added.key)
        bound(app)


async def test_under_a_filter_the_database_says_which_changed_tasks_match(bulk: Deck) -> None:
    app = make_app(bulk)
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        screen = board(app)
        screen.set_filter(BoardFilter(text="item1"))
        await wait_for(pilot, lambda: ready(app).count == 111)
        column = ready(app)
        leaving = bulk.get_task(column.keys[1])
        joining = next(
            t for t in bulk.column_page("WEB", "ready", limit=40).tasks if "item" not in t.title
        )
        bulk.edit_task(leaving.key, actor="ann", expected_version=leaving.version, title="Renamed")
        bulk.edit_task(
            joining.key, actor="ann", expected_version=joining.version, title="Now ITEM1 too"
        )
        screen.refresh_data()
        await wait_for(pilot, lambda: joining.key in column.keys)
        assert leaving.key not in column.keys and leaving.key not in screen.state.tasks
        assert column.count == 111 and column.keys[0] == joining.key  # higher priority: first

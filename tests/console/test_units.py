"""The pure parts of the console: neutralising text, and the board's order and filter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS
from agentdeck.core.paging import ColumnFilter
from agentdeck.tui.console.agent_text import clean, line, safe
from agentdeck.tui.console.board_state import BoardFilter, BoardState


def test_control_characters_become_visible_symbols() -> None:
    assert clean("\x1b[31mred\x1b[0m") == "␛[31mred␛[0m"
    assert clean("bell\x07 nul\x00 del\x7f csi\x9b") == "bell␇ nul␀ del␡ csi\ufffd"
    assert clean("tab\there\r\nnext") == "tab here\nnext"


def test_bidi_overrides_are_removed() -> None:
    assert clean("abc\u202edcba\u202c") == "abcdcba"


def test_single_line_folds_newlines_and_limit_marks_the_cut() -> None:
    assert clean("a\nb\tc", single_line=True) == "a b c"
    assert clean("x" * 10, limit=5) == "xxxx…"


def test_markup_is_kept_as_text() -> None:
    text = safe("[bold]x[/] [link=https://e.example]y[/link]")
    assert text.plain == "[bold]x[/] [link=https://e.example]y[/link]"
    assert not text.spans
    assert line("a\nb", "italic").plain == "a b"


def loaded(deck: Deck, page: int = 60, board_filter: BoardFilter | None = None) -> BoardState:
    """A board state loaded as the board screen loads it: a page of each column."""
    state = BoardState(page)
    if board_filter is not None:
        state.set_filter(board_filter)
    sql = state.filter.sql()
    state.load(
        {c: deck.column_page("WEB", c, filter=sql, limit=page) for c in COLUMNS},
        deck.column_counts("WEB"),
    )
    return state


def test_board_state_orders_columns_and_drops_cancelled(deck: Deck, other: Deck) -> None:
    tasks = other.list_tasks("WEB")
    state = loaded(other)
    ready = state.column_keys("ready")
    priorities = [state.tasks[k].priority for k in ready]
    assert priorities == sorted(priorities)
    done = [state.tasks[k].completed_at for k in state.column_keys("done")]
    assert done == sorted(done, reverse=True)
    cancelled = replace(state.tasks[ready[0]], status="cancelled", column="cancelled")
    assert state.apply([cancelled]) == {"ready"}
    assert ready[0] not in state.column_keys("ready") and ready[0] not in state.tasks
    assert sum(state.counts().values()) == len(tasks)  # counts come from the database
    assert state.size() == len(tasks) - 1


def test_board_state_reports_only_the_columns_a_change_touched(other: Deck) -> None:
    state = loaded(other)
    task = state.tasks["WEB-15"]
    assert state.apply([task]) == set()  # unchanged: nothing to redraw
    moved = replace(task, status="in_progress", column="in_progress", version=task.version + 1)
    assert state.apply([moved]) == {"ready", "in_progress"}
    later = replace(moved, updated_at=moved.updated_at + timedelta(seconds=1))
    assert state.apply([later]) == {"in_progress"}


def test_a_change_lands_in_a_window_only_where_it_sorts_inside_it(other: Deck) -> None:
    """A window in the middle of a column takes a task that sorts inside it, not one that
    sorts above or below what it holds (the counts say those are there)."""
    other.plan(
        [{"title": f"Bulk {n}", "priority": 2} for n in range(30)], actor="planner", board="WEB"
    )
    state = loaded(other, page=5)
    window = state.windows["ready"]
    first = window.tasks[-1]
    page = other.column_page("WEB", "ready", after=first, limit=5)
    assert state.extend(page, first.key, True, first.key)
    assert not state.extend(page, first.key, True, first.key)  # that edge is gone
    window.keep_around(page.tasks[2].key, 5)
    state._reindex()
    assert window.start == 5 and [t.key for t in window.tasks] == [t.key for t in page.tasks]
    inside = replace(page.tasks[0], title="renamed", version=page.tasks[0].version + 1)
    above = replace(state.tasks[page.tasks[0].key], priority=0)
    assert state.apply([inside]) == {"ready"} and state.tasks[inside.key].title == "renamed"
    assert state.apply([above]) == {"ready"}  # it left the window, upwards
    assert above.key not in state.tasks and len(window.tasks) == 4


def test_board_filter_matches_text_agent_and_skill(other: Deck) -> None:
    state = loaded(other, board_filter=BoardFilter(text="blog"))
    everything = [
        k
        for c in ("blocked", "ready", "in_progress", "needs_human", "done", "failed")
        for k in state.column_keys(c)
    ]
    assert everything and all(
        "blog" in (state.tasks[k].title + state.tasks[k].description).lower() for k in everything
    )
    state = loaded(other, board_filter=BoardFilter(skill="qa"))
    assert all(
        "qa" in state.tasks[k].required_skills
        for c in ("ready", "in_progress", "done")
        for k in state.column_keys(c)
    )
    assert BoardFilter(text="x", agent="fe-1", skill="qa").describe() == '"x" @fe-1 #qa'
    assert BoardFilter(text="Bug #UX label:db", agent="fe-1").sql() == ColumnFilter(
        words=("bug",), labels=("ux", "db"), agent="fe-1"
    )
    assert not BoardFilter().active

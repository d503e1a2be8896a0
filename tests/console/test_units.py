"""The pure parts of the console: neutralising text, and the board's order and filter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agentdeck.core import Deck
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


def test_board_state_orders_columns_and_drops_cancelled(deck: Deck, other: Deck) -> None:
    tasks = other.list_tasks("WEB")
    state = BoardState(tasks)
    ready = state.column_keys("ready")
    priorities = [state.tasks[k].priority for k in ready]
    assert priorities == sorted(priorities)
    done = [state.tasks[k].completed_at for k in state.column_keys("done")]
    assert done == sorted(done, reverse=True)
    cancelled = replace(state.tasks[ready[0]], status="cancelled", column="cancelled")
    assert state.apply([cancelled]) == {"ready"}
    assert ready[0] not in state.column_keys("ready")
    assert sum(state.counts().values()) == len(tasks) - 1


def test_board_state_reports_only_the_columns_a_change_touched(other: Deck) -> None:
    state = BoardState(other.list_tasks("WEB"))
    task = state.tasks["WEB-15"]
    assert state.apply([task]) == set()  # unchanged: nothing to redraw
    moved = replace(task, status="in_progress", column="in_progress", version=task.version + 1)
    assert state.apply([moved]) == {"ready", "in_progress"}
    later = replace(moved, updated_at=moved.updated_at + timedelta(seconds=1))
    assert state.apply([later]) == {"in_progress"}


def test_board_filter_matches_text_agent_and_skill(other: Deck) -> None:
    state = BoardState(other.list_tasks("WEB"))
    state.set_filter(BoardFilter(text="blog"))
    everything = [
        k
        for c in ("blocked", "ready", "in_progress", "needs_human", "done", "failed")
        for k in state.column_keys(c)
    ]
    assert everything and all(
        "blog" in (state.tasks[k].title + state.tasks[k].description).lower() for k in everything
    )
    state.set_filter(BoardFilter(skill="qa"))
    assert all(
        "qa" in state.tasks[k].required_skills
        for c in ("ready", "in_progress", "done")
        for k in state.column_keys(c)
    )
    assert BoardFilter(text="x", agent="fe-1", skill="qa").describe() == '"x" @fe-1 #qa'
    assert not BoardFilter().active

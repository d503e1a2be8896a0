"""The console's own texts (outside the board widgets) name statuses in words."""

from __future__ import annotations

from agentdeck.core import Deck
from agentdeck.tui.console.screens.task_detail import info_text


def test_the_task_screen_names_a_blocker_s_status_in_words(deck: Deck) -> None:
    """`WEB-3 (in progress)`, not `(in_progress)` (the task screen's dependencies)."""
    first = deck.add_task("Blocker", actor="ann")
    waiting = deck.add_task("Waits", actor="ann", blocked_by=[first.key])
    deck.assign(first.key, "fe-1", actor="ann")
    claimed = deck.claim("fe-1", board="WEB", key=first.key)
    assert claimed is not None
    text = info_text(deck.task_detail(waiting.key), deck.now()).plain
    assert f"{first.key} (in progress)" in text and "in_progress" not in text

"""Compact views: the small shapes list-like answers give agents, and the cursor that pages them.

Agents pay for every character an answer carries. A full `Task` is about 750 characters of
JSON (29 fields, its whole description); a list of twenty costs 15,000. So every list-shaped
answer (ready, task list, search, similar, events, inbox) carries these views instead, and
`task show` (or `--full` on the command line) gives the whole thing. Each view keeps what an
agent decides on: which task, its state, whose it is, what blocks it, what it is doing now.

Text is clipped to a line (`clip`), never altered otherwise: the JSON carries it literally.
The cursor is opaque to callers (today an offset into the ordered list, as a string), so its
encoding can change without changing any tool or command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from agentdeck.core.errors import ValidationError
from agentdeck.core.models import Event, Message, SearchHit, Task

T = TypeVar("T")

TITLE = 120  # characters of a title in a compact view
LINE = 100  # characters of a one-line text (doing now, a log entry, a snippet)
MESSAGE = 600  # characters of a message: review notes and answers are what the agent needs
MAX_BLOCKERS = 8  # blocker keys listed in a compact view; `more_blockers` counts the rest
MAX_CURSOR = 1_000_000


def clip(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace become one space), cut to `limit` with '…'."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def task_card(t: Task) -> dict[str, Any]:
    """A task in about 150 characters: key, title, status, priority, assignee, skills,
    open blockers and what its holder is doing now (`doing`, one line)."""
    card: dict[str, Any] = {
        "key": t.key,
        "title": clip(t.title, TITLE),
        "status": t.status,
        "priority": t.priority,
        "assignee": t.assignee,
        "skills": list(t.required_skills),
        "blocked_by": list(t.blocked_by[:MAX_BLOCKERS]),
        "doing": clip(t.active_form, LINE),
    }
    if len(t.blocked_by) > MAX_BLOCKERS:
        card["more_blockers"] = len(t.blocked_by) - MAX_BLOCKERS
    return card


def message_card(m: Message) -> dict[str, Any]:
    """A message with its text clipped to `MESSAGE` characters (`task show` has the notes whole)."""
    return {
        "id": m.id,
        "from": m.sender,
        "task": m.task,
        "kind": m.kind,
        "text": clip(m.text, MESSAGE),
        "at": m.created_at.isoformat(),
    }


def event_card(e: Event) -> dict[str, Any]:
    """A log entry or board event on one line; its JSON `data` is left to `task show`."""
    return {
        "id": e.id,
        "task": e.task,
        "actor": e.actor,
        "kind": e.kind,
        "subkind": e.subkind,
        "text": clip(e.text, LINE),
        "at": e.created_at.isoformat(),
    }


def hit_card(h: SearchHit) -> dict[str, Any]:
    """A search hit: the finished task, its result and the matching snippet, each one line."""
    return {
        "key": h.key,
        "title": clip(h.title, TITLE),
        "result": clip(h.result, LINE),
        "snippet": clip(h.snippet, LINE),
        "score": round(h.score, 4),
    }


CARDS: dict[type, Callable[[Any], dict[str, Any]]] = {
    Task: task_card,
    Message: message_card,
    Event: event_card,
    SearchHit: hit_card,
}


def card(item: Task | Message | Event | SearchHit) -> dict[str, Any]:
    """The compact view of any listed model."""
    return CARDS[type(item)](item)


def start_of(cursor: str | None) -> int:
    """Where a page starts: 0 without a cursor, else the position `cursor` names.

    Raises `ValidationError` for anything that is not a cursor this module gave out."""
    if cursor is None or cursor == "":
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_CURSOR:
        raise ValidationError(f"not a page cursor: {cursor[:40]!r} (pass next_cursor as given)")
    return int(cursor)


def page(
    items: Sequence[T],
    start: int,
    limit: int,
    view: Callable[[T], dict[str, Any]],
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `items` (the caller fetched them from `start`, up to `limit` + 1 of them)
    as views, and the cursor of the next page, or None when this page is the last."""
    shown = [view(item) for item in items[:limit]]
    more = len(items) > limit
    return shown, (str(start + limit) if more else None)

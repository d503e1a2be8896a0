"""Compact views: the small shapes list-like answers give agents, and the cursor that pages them.

Agents pay for every character an answer carries. A full `Task` is about 750 characters of
JSON (29 fields, its whole description); a list of twenty costs 15,000. So every list-shaped
answer (ready, task list, search, similar, events, inbox) carries these views instead, and
`task show` (or `--full` on the command line) gives the whole thing. Each view keeps what an
agent decides on: which task, its state, whose it is, what blocks it, what it is doing now.

Every list read is bounded: the command line and MCP answer a page (`DEFAULT_PAGE`) and a
cursor, the Python API's list reads return at most `API_LIMIT` unless told otherwise, and
whole lists are streamed a page at a time (`core.paging`), never loaded at once.

Text is clipped to a line (`clip`), never altered otherwise: the JSON carries it literally.
The cursor is opaque to callers (today an offset into the ordered list, as a string), so its
encoding can change without changing any tool or command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from agentdeck.core.errors import ValidationError
from agentdeck.core.models import (
    BudgetStatus,
    Claim,
    Completion,
    Edited,
    Event,
    Message,
    SearchHit,
    Task,
    TaskDetail,
    UsageTotals,
)

T = TypeVar("T")

TITLE = 120  # characters of a title in a compact view
LINE = 100  # characters of a one-line text (doing now, a log entry, a snippet)
MESSAGE = 600  # characters of a message: review notes and answers are what the agent needs
MAX_BLOCKERS = 8  # blocker keys listed in a compact view; `more_blockers` counts the rest
MAX_LABELS = 8  # labels listed in a compact view; `more_labels` counts the rest
MAX_CURSOR = 1_000_000
MAX_ROW_ID = 2**31 - 1  # the largest id a keyset cursor names
DEFAULT_PAGE = 20  # a page of a list answer on the command line and over MCP
# What a Python API list read returns when not told (`limit=None` asks for everything): far
# above any roster or budget list, small enough that no call loads a 100,000-task board.
API_LIMIT = 1000
STREAM_PAGE = 500  # rows per read when a stream (`--all`, `paging.iter_*`) walks a table


def clip(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace become one space), cut to `limit` with '…'."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def task_card(t: Task) -> dict[str, Any]:
    """A task in about 170 characters: key, title, type, status, priority, labels, assignee,
    skills, open blockers, what its holder is doing now (`doing`, one line) and, for an epic,
    its subtasks' progress (`subtasks`, "3/7": done of those not cancelled)."""
    card: dict[str, Any] = {
        "key": t.key,
        "title": clip(t.title, TITLE),
        "type": t.type,
        "status": t.status,
        "priority": t.priority,
        "labels": list(t.labels[:MAX_LABELS]),
        "assignee": t.assignee,
        "skills": list(t.required_skills),
        "blocked_by": list(t.blocked_by[:MAX_BLOCKERS]),
        "doing": clip(t.active_form, LINE),
    }
    if len(t.blocked_by) > MAX_BLOCKERS:
        card["more_blockers"] = len(t.blocked_by) - MAX_BLOCKERS
    if len(t.labels) > MAX_LABELS:
        card["more_labels"] = len(t.labels) - MAX_LABELS
    if t.subtasks_total:
        card["subtasks"] = f"{t.subtasks_done}/{t.subtasks_total}"
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


def sent_receipt(m: Message) -> dict[str, Any]:
    """What `send` answers: the message's id, its recipient and the task it is about."""
    return {"id": m.id, "to": m.to, "task": m.task}


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


def event_whole(e: Event) -> dict[str, Any]:
    """A log entry with its text whole and its JSON `data` (what `task show --full` pages)."""
    return {**event_card(e), "text": e.text, "data": e.data}


def hit_card(h: SearchHit) -> dict[str, Any]:
    """A search hit: the finished task, its result and the matching snippet, each one line."""
    return {
        "key": h.key,
        "title": clip(h.title, TITLE),
        "result": clip(h.result, LINE),
        "snippet": clip(h.snippet, LINE),
        "score": round(h.score, 4),
    }


# Fields of a whole task an agent has no use for while working on it: bookkeeping
# (version, timestamps, the lease's clock) and flags a refused call explains anyway.
NOISE = (
    "board",
    "version",
    "lease_expires_at",
    "lease_stale",
    "over_budget",
    "created_at",
    "started_at",
    "completed_at",
    "updated_at",
)


def task_whole(t: Task) -> dict[str, Any]:
    """A task with everything an agent works from (description and criteria whole, result,
    verification, spend) and none of the bookkeeping in `NOISE`."""
    whole = t.to_dict()
    for name in NOISE:
        del whole[name]
    return whole


def claim_view(c: Claim) -> dict[str, Any]:
    """What `claim` answers: the task whole, the inbox it delivered as message cards (they
    are marked read, so they are never clipped away: `MESSAGE` characters each) and the
    similar finished tasks as search-hit cards."""
    return {
        "task": task_whole(c.task),
        "inbox": [message_card(m) for m in c.inbox],
        "similar": [hit_card(h) for h in c.similar],
    }


def receipt(t: Task) -> dict[str, Any]:
    """What a move (submit, done, fail, escalate, release) answers: which task, and where it
    is now. The agent sent the rest, so nothing is echoed back."""
    return {"key": t.key, "status": t.status, "column": t.column, "assignee": t.assignee}


def edit_receipt(e: Edited) -> dict[str, Any]:
    """What `task edit` answers: which task, its version now (the one to send with the next
    edit), and the fields the edit changed (empty: nothing was written)."""
    return {"key": e.task.key, "version": e.task.version, "changed": list(e.changed)}


def done_receipt(c: Completion) -> dict[str, Any]:
    """`done`'s receipt, with the nudge when the task was done without evidence."""
    return {**receipt(c.task), "nudge": c.nudge}


def log_receipt(e: Event) -> dict[str, Any]:
    """What `log` answers: the entry's id and task and its kind, not the text sent."""
    return {"id": e.id, "task": e.task, "kind": e.subkind or e.kind}


def comment_receipt(e: Event) -> dict[str, Any]:
    """What `comment` answers: the comment's id and task, not the text sent."""
    return {"id": e.id, "task": e.task}


def budget_card(b: BudgetStatus) -> dict[str, Any]:
    """A budget's state on one line: whose, which metric, used against its limits."""
    return b.to_dict()


def usage_receipt(key: str | None, crossed: Sequence[BudgetStatus]) -> dict[str, Any]:
    """What `usage` answers: where it was recorded and the budgets it pushed past a limit."""
    return {"task": key, "recorded": True, "budgets_crossed": [budget_card(b) for b in crossed]}


def plan_receipt(refs: Sequence[str | None], tasks: Sequence[Task]) -> dict[str, Any]:
    """What `plan` answers: each task's ref (as the plan named it) and key, and its column
    (ready or blocked); titles and the rest are what the caller sent."""
    return {
        "created": len(tasks),
        "tasks": [
            {"ref": ref, "key": t.key, "column": t.column}
            for ref, t in zip(refs, tasks, strict=True)
        ],
    }


def comment_card(e: Event, limit: int | None = MESSAGE) -> dict[str, Any]:
    """A comment: who said what on which task, when; its text clipped to `limit` characters
    (`MESSAGE`, as a message's), or whole with None."""
    return {
        "id": e.id,
        "task": e.task,
        "actor": e.actor,
        "text": e.text if limit is None else clip(e.text, limit),
        "at": e.created_at.isoformat(),
    }


def detail_view(d: TaskDetail, *, whole_comments: bool = False) -> dict[str, Any]:
    """`task show`'s whole task: every field, its dependencies, subtasks, assignee history,
    notes (whole: review notes and answers are what the next worker needs), checkpoints,
    usage, and its newest comments (`comment_card`, whole with `whole_comments`) with their
    count. The log is paged separately (`event_card`)."""
    return {
        "task": d.task.to_dict(),
        "blocks": list(d.blocks),
        "blocked_by_all": [{"key": k, "status": s} for k, s in d.blocked_by_all],
        "subtasks": list(d.subtasks),
        "assignee_history": [
            {"agent": a, "by": by, "at": at.isoformat()} for a, by, at in d.assignee_history
        ],
        "notes": [{**event_card(e), "text": e.text} for e in d.notes],
        "checkpoints": [c.to_dict() for c in d.checkpoints],
        "usage": d.usage.to_dict(),
        **(
            {"measured": d.measured.to_dict(), "reported": (d.reported or UsageTotals()).to_dict()}
            if d.measured is not None
            else {}
        ),
        "events": d.event_count,
        "comments": [comment_card(e, None if whole_comments else MESSAGE) for e in d.comments],
        "comments_total": d.comments_total,
        **(
            {"links": [{"kind": k, "key": key or None, "ref": r} for k, key, r in d.links]}
            if d.links
            else {}
        ),
        **({"metadata": d.metadata} if d.metadata else {}),
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


def id_after(cursor: str | None) -> int | None:
    """The row id a keyset cursor names (a page that follows a row, like a log page before
    the oldest entry shown), None without a cursor.

    Raises `ValidationError` for anything that is not a cursor this module gave out."""
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_ROW_ID:
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
    return [view(item) for item in items[:limit]], next_cursor(len(items), start, limit)


def next_cursor(fetched: int, start: int, limit: int) -> str | None:
    """The cursor of the page after the one at `start`, given how many items were fetched
    from there (up to `limit` + 1): None when no item follows the page."""
    return str(start + limit) if fetched > limit else None

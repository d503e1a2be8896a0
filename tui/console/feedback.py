"""Why a key did nothing, in words: a move that does not apply to the selected task, and a
task that moved on (another human or agent acted on it) just before the key was pressed.

A key whose move does not apply is hidden from the footer; pressed anyway, it says why
("WEB-3 is in progress; only a task in review can be approved") instead of doing nothing.
A task that left the needs-human queue under the cursor is named with who moved it
("WEB-4 was already approved by bob"), read from its log.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentdeck.core import Deck, DeckError
from agentdeck.core.lifecycle import EDITS, MOVES, status_words
from agentdeck.core.models import Task

# The statuses each console action applies to, straight from the lifecycle rules in core.
APPLIES: dict[str, tuple[str, ...]] = {
    "approve_task": MOVES["approve"].sources,
    "reject_task": MOVES["reject"].sources,
    "reopen_task": MOVES["reopen"].sources,
    "answer_task": MOVES["answer"].sources,
    "reassign_task": EDITS["assign"],
    "raise_priority": EDITS["set_priority"],
    "lower_priority": EDITS["set_priority"],
    "cancel_task": MOVES["cancel"].sources,
}
# What each action does to a task, after "can be".
DONE_TO = {
    "approve_task": "approved",
    "reject_task": "sent back",
    "reopen_task": "reopened",
    "answer_task": "answered",
    "reassign_task": "reassigned",
    "raise_priority": "given a higher priority",
    "lower_priority": "given a lower priority",
    "cancel_task": "cancelled",
}
# A lifecycle verb in the past tense, for "WEB-4 was already approved by bob".
PAST = {
    "claim": "claimed",
    "release": "released",
    "complete": "completed",
    "submit": "submitted for review",
    "fail": "marked failed",
    "escalate": "escalated",
    "approve": "approved",
    "reject": "sent back",
    "reopen": "reopened",
    "answer": "answered",
    "cancel": "cancelled",
    "reassign": "reassigned",
    "expire": "released when its lease expired",
    "epic_done": "closed with its subtasks",
    "epic_review": "sent to review with its subtasks",
    "epic_reopen": "reopened with its subtasks",
}
MOVE_EVENTS = tuple(sorted({m.event for m in MOVES.values()}))


def either(words: Iterable[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def why_not(action: str, task: Task | None) -> str | None:
    """Why `action` cannot act on `task` (None: it can, or it is not a task action)."""
    if action not in APPLIES:
        return None
    if task is None:
        return "No task is selected"
    sources = APPLIES[action]
    if task.status not in sources:
        states = [status_words(s) for s in sources]
        if all(s.startswith("in ") for s in states):
            which = f"a task {either(states)}"
        else:
            which = f"a task that is {either(states)}"
        return f"{task.key} is {status_words(task.status)}; only {which} can be {DONE_TO[action]}"
    if action == "raise_priority" and task.priority <= 0:
        return f"{task.key} is already P0, the highest priority"
    if action == "lower_priority" and task.priority >= 4:
        return f"{task.key} is already P4, the lowest priority"
    return None


def moved_on(deck: Deck, key: str) -> str:
    """What last moved `key`, and who: `approved by bob`; `now done` when its log does not say
    (or `gone` when the task itself is). Read in a worker: it queries the deck."""
    try:
        task = deck.get_task(key)
        events = deck.task_events(key, kinds=MOVE_EVENTS, limit=1)
    except DeckError:  # deleted, or unreadable: say so rather than fail the refresh
        return "gone"
    if events:
        last = events[-1]
        verb = str(last.data.get("verb", ""))
        if verb in PAST and last.data.get("to") == task.status:
            return f"{PAST[verb]} by {last.actor}"
    return f"now {status_words(task.status)}"


def already(key: str, what: str) -> str:
    """`WEB-4 was already approved by bob`, or `WEB-4 is now done`."""
    if what.startswith("now "):
        return f"{key} is {what}"
    return f"{key} was already {what}"

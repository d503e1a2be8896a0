"""The task lifecycle: which verb moves a task from which status to which, and who may do it.

Anything not in `MOVES` is refused with an error that names the task, its status and the
verbs its status allows; nothing is written.

Epics (tasks with subtasks) also move by themselves, as the system actor: when the last task a
pending epic waits on finishes and at least one of its subtasks is done, it completes
(`epic_done`), or goes to review if it requires approval (`epic_review`); when a subtask of a
done or in-review epic is reopened, the epic goes back to pending (`epic_reopen`).
"""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.core.errors import InvalidTransitionError


@dataclass(frozen=True)
class Move:
    verb: str
    sources: tuple[str, ...]
    target: str
    who: str  # holder | human | human_or_lead | any | system
    event: str  # the event kind this move writes


MOVES: dict[str, Move] = {
    m.verb: m
    for m in (
        Move("claim", ("pending",), "in_progress", "any", "claimed"),
        Move("release", ("in_progress",), "pending", "holder", "status"),
        Move("complete", ("in_progress",), "done", "holder", "status"),
        Move("submit", ("in_progress",), "review", "holder", "status"),
        Move("fail", ("in_progress",), "failed", "holder", "status"),
        Move("escalate", ("in_progress",), "escalated", "holder", "status"),
        Move("approve", ("review",), "done", "human", "approval"),
        Move("reject", ("review",), "pending", "human", "approval"),
        Move("reopen", ("done", "failed"), "pending", "human", "reopened"),
        Move("answer", ("escalated",), "pending", "human", "status"),
        Move(
            "cancel",
            ("pending", "in_progress", "review", "escalated", "failed"),
            "cancelled",
            "human",
            "status",
        ),
        Move("reassign", ("in_progress", "escalated"), "pending", "human_or_lead", "assigned"),
        Move("expire", ("in_progress",), "pending", "any", "lease_expired"),
        Move("epic_done", ("pending",), "done", "system", "status"),
        Move("epic_review", ("pending",), "review", "system", "status"),
        Move("epic_reopen", ("done", "review"), "pending", "system", "reopened"),
    )
}
# The moves only agentdeck itself makes (as `SYSTEM_ACTOR`), never a member.
SYSTEM_VERBS = tuple(m.verb for m in MOVES.values() if m.who == "system")
SYSTEM_ACTOR = "agentdeck"

# Verbs that change a task without moving it, and the statuses where they apply.
EDITS: dict[str, tuple[str, ...]] = {
    "assign": ("pending", "in_progress", "escalated", "review", "failed"),
    "set_priority": ("pending", "in_progress", "review", "escalated", "failed"),
}

_VERB_NAMES = {"complete": "done", "set_priority": "priority"}

# Each stored status as it reads after "it is": messages put statuses in sentences.
STATUS_WORDS: dict[str, str] = {
    "pending": "pending",
    "in_progress": "in progress",
    "review": "in review",
    "escalated": "escalated",
    "done": "done",
    "failed": "failed",
    "cancelled": "cancelled",
}


def status_words(status: str) -> str:
    """`status` in words for a sentence: "in review", not "review"; "in progress", not "in_progress"."""
    return STATUS_WORDS.get(status, status.replace("_", " "))


def allowed_verbs(status: str) -> list[str]:
    """The user-facing verbs a task in `status` accepts, for error messages and the TUI."""
    hidden = ("expire", "reassign", *SYSTEM_VERBS)  # reassign is offered as `assign`
    verbs = [m.verb for m in MOVES.values() if status in m.sources and m.verb not in hidden]
    verbs += [v for v, sources in EDITS.items() if status in sources]
    return [_VERB_NAMES.get(v, v) for v in verbs]


def check_move(verb: str, key: str, status: str) -> Move:
    """The move for `verb`, or `InvalidTransitionError` if `status` does not allow it."""
    move = MOVES[verb]
    if status not in move.sources:
        raise refused(verb, key, status)
    return move


def check_edit(verb: str, key: str, status: str) -> None:
    if status not in EDITS[verb]:
        raise refused(verb, key, status)


def refused(verb: str, key: str, status: str) -> InvalidTransitionError:
    allowed = ", ".join(allowed_verbs(status)) or "nothing (it is closed)"
    return InvalidTransitionError(
        f"cannot {verb.replace('_', ' ')} {key}: it is {status_words(status)}; allowed: {allowed}"
    )

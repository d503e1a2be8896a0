"""Bringing a task to what an import file says, only by moves its importer may make.

A file is no credential: whoever imports it may change an existing task only as they could
by hand. For each task, the shortest sequences of lifecycle moves (`lifecycle.MOVES`) that
reach the wanted status and that the actor's role allows are tried in turn, each through the
functions the verbs themselves use, inside a savepoint; the first sequence the verbs accept
stands. When none does, the task stays as it was and a `Skipped` entry says why. Functions
here: importer, bring_to, assign_to, prioritise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from agentdeck.core import claims, lifecycle, permissions, supervision, work
from agentdeck.core.errors import DeckError
from agentdeck.core.models import Skipped
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key

MAX_MOVES = 2  # claim then complete, reject then claim, ...: no import needs more
# Moves an import never makes: the lease sweep's, and escalating, which needs a reason a
# human can act on that no file carries.
_NEVER = ("expire", "escalate", *lifecycle.SYSTEM_VERBS)
_WHO_WORDS = {
    "holder": "its holder",
    "human": "a human",
    "human_or_lead": "a human or the board's lead",
}


@dataclass(frozen=True)
class Importer:
    """Who is importing, as far as the lifecycle cares."""

    name: str
    human: bool
    lead: bool

    @property
    def may_add_agents(self) -> bool:
        return self.human or self.lead


def importer(tx: Tx, b: StoredRow, actor: str) -> Importer:
    """The importing actor's role on board `b` (refused if it is not on the board)."""
    return Importer(actor, permissions.is_human(tx, b, actor), permissions.is_lead(tx, b, actor))


def bring_to(
    tx: Tx, who: Importer, key: str, want: str, owner: str | None, note: str
) -> Skipped | None:
    """Move task `key` to status `want` (held by `owner` if that is in progress) by the moves
    `who` may make; None when it is there, else what was left alone and why."""
    task = tx.task_row(key)
    if task["status"] == want:
        return None
    holder = tx.agent_name(task["assignee_id"])
    refusal = None
    for path in paths(task["status"], holder, want, owner, who):
        try:
            with _savepoint(tx):
                for verb in path:
                    _make(tx, who, key, verb, owner, note)
            return None
        except DeckError as exc:
            refusal = refusal or exc.message
    return Skipped(key, want, task["status"], refusal or _why_not(task["status"], want, owner, who))


def assign_to(tx: Tx, who: Importer, key: str, owner: str | None) -> Skipped | None:
    """Give task `key` to `owner` as `assign` would (a human or the lead); a task someone
    holds or that waits on a human keeps its holder: reassigning would send it back."""
    task = tx.task_row(key)
    holder = tx.agent_name(task["assignee_id"])
    if holder == owner:
        return None
    wanted = f"assigned to {owner or 'nobody'}"
    if task["status"] in lifecycle.MOVES["reassign"].sources:
        reason = (
            f"it is {lifecycle.status_words(task['status'])} under {holder or 'nobody'}; "
            "changing its owner would send it back to the queue"
        )
        return Skipped(key, wanted, task["status"], reason)
    try:
        with _savepoint(tx):
            supervision.assign(tx, key, owner, actor=who.name)
    except DeckError as exc:
        return Skipped(key, wanted, task["status"], exc.message)
    return None


def prioritise(tx: Tx, who: Importer, key: str, priority: int) -> Skipped | None:
    """Set task `key`'s priority as `set_priority` would (a human or the lead)."""
    task = tx.task_row(key)
    if task["priority"] == priority:
        return None
    try:
        with _savepoint(tx):
            supervision.change_priority(tx, key, priority, actor=who.name)
    except DeckError as exc:
        return Skipped(key, f"priority {priority}", task["status"], exc.message)
    return None


def paths(
    status: str, holder: str | None, want: str, owner: str | None, who: Importer
) -> list[list[str]]:
    """Sequences of verbs (at most MAX_MOVES) that take a task from `status` to `want` and
    that `who`'s role allows, shortest first; none passes through a status twice."""
    found: list[list[str]] = []
    frontier: list[tuple[str, str | None, list[str]]] = [(status, holder, [])]
    for _ in range(MAX_MOVES):
        later = []
        for at, held_by, path in frontier:
            seen = {status, *(lifecycle.MOVES[v].target for v in path)}
            for move in lifecycle.MOVES.values():
                if at not in move.sources or move.target in seen:
                    continue
                if not _may(move, held_by, owner, who):
                    continue
                step = [*path, move.verb]
                if move.target == want:
                    found.append(step)
                else:
                    later.append((move.target, _holder_after(move.verb, held_by, owner, who), step))
        frontier = later
    return found


def _may(move: lifecycle.Move, holder: str | None, owner: str | None, who: Importer) -> bool:
    """Whether `who`'s role allows `move`. A claim makes the claimer the holder, so an import
    claims only for its own actor, and only what the file gives to that actor."""
    if move.verb in _NEVER:
        return False
    if move.who == "any":
        return owner == who.name
    if move.who == "holder":
        return holder == who.name
    if move.who == "human":
        return who.human
    return who.human or who.lead  # human_or_lead


def _holder_after(verb: str, holder: str | None, owner: str | None, who: Importer) -> str | None:
    if verb == "claim":
        return who.name
    if verb == "reassign":
        return owner
    if verb == "release":
        return None
    return holder


def _make(tx: Tx, who: Importer, key: str, verb: str, owner: str | None, note: str) -> None:
    """One move by the same functions the verb uses, with their checks."""
    actor = who.name
    if verb == "claim":
        task, b = tx.task(key)
        claims.take(tx, b, tx.actor(b, actor), task_key(b["key"], task["number"]))
    elif verb in ("submit", "complete", "fail", "release"):
        work.move_held(tx, key, verb, actor=actor, text=note)
    elif verb == "approve":
        supervision.approve(tx, key, actor=actor, note=note)
    elif verb in ("reject", "reopen", "answer"):
        supervision.send_back(tx, key, verb, actor=actor, notes=note)
    elif verb == "cancel":
        supervision.cancel(tx, key, actor=actor, reason=note)
    elif verb == "reassign":
        supervision.assign(tx, key, owner, actor=actor)
    else:
        raise ValueError(f"an import does not {verb}")


def _why_not(status: str, want: str, owner: str | None, who: Importer) -> str:
    """Why no move of `who`'s leads from `status` to `want`: which moves would, and whose."""
    ways = []
    for move in lifecycle.MOVES.values():
        if move.target != want or move.verb in _NEVER:
            continue
        if move.who == "any":
            ways.append(f"claim (by {owner or 'the agent taking it'}, for itself)")
        else:
            ways.append(
                f"{'assign' if move.verb == 'reassign' else move.verb} ({_WHO_WORDS[move.who]})"
            )
    how = f"; {lifecycle.status_words(want)} is reached by {', '.join(ways)}" if ways else ""
    return (
        f"{who.name} may not move it from {lifecycle.status_words(status)} to "
        f"{lifecycle.status_words(want)}{how}"
    )


@contextmanager
def _savepoint(tx: Tx) -> Iterator[None]:
    """Undo this block's writes and events if a verb refuses, keeping the rest of the import."""
    events = len(tx.events)
    nested = tx.conn.begin_nested()
    try:
        yield
    except DeckError:
        nested.rollback()
        del tx.events[events:]
        raise
    nested.commit()

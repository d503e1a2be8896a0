"""The lifecycle property tests' model: the board's team, which calls a verb must accept, who
may act through which credentials, the budgets a claim must respect, and a replay of the
event log that must arrive at every task's stored status, holder and version.

Everything here works on the frozen read models `Deck` returns (`Task`, `Event`, `Agent`),
never on the database, so the state machine checks the store only through its front door.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from agentdeck.core.lifecycle import EDITS, MOVES
from agentdeck.core.models import FINISHED_STATUSES, Agent, Event, Task

SWEEPER = "agentdeck"  # the actor of `lease_expired` events
# Event kinds a task's log may hold; a new kind must be taught to the replay before it passes.
TASK_EVENT_KINDS = {
    "created",
    "assigned",
    "priority",
    "claimed",
    "status",
    "approval",
    "reopened",
    "lease_expired",
    "log",
    "usage",
    "doing",
    "dependency",
    "budget",
    "message",
    "edited",
    "comment",
}
BOARD_EVENT_KINDS = {"board", "agent", "plan", "budget", "usage", "doing", "message"}


@dataclass(frozen=True)
class Member:
    name: str
    human: bool
    skills: frozenset[str]


@dataclass(frozen=True)
class Team:
    """The board's roster as `Deck` reports it, who may do what, and whether its agents may
    act by name (`named` mode) or only with their token."""

    members: Mapping[str, Member]
    lead: str | None
    named: bool

    @classmethod
    def of(cls, agents: Iterable[Agent], lead: str | None, mode: str) -> Team:
        members = {a.name: Member(a.name, a.kind == "human", frozenset(a.skills)) for a in agents}
        return cls(members, lead, mode == "named")

    def on_board(self, name: str | None) -> bool:
        return name is not None and name in self.members

    def human(self, name: str) -> bool:
        return name in self.members and self.members[name].human

    def human_or_lead(self, name: str) -> bool:
        return self.human(name) or (self.on_board(name) and name == self.lead)

    def fits(self, name: str, skills: Iterable[str]) -> bool:
        """Whether the member has every skill a task requires (none required fits everyone)."""
        return set(skills) <= self.members[name].skills


# How an actor proved who it is, as events record it (`agentdeck.core.credentials`).
BY_TOKEN, BY_FILE, BY_NAME = "token", "credential file", "named"


@dataclass(frozen=True)
class Credentials:
    """The credentials one acting deck presents: the members whose token it holds as an
    agent's token (an agent's AGENTDECK_TOKEN, or one it minted), and the humans whose token
    it read from their credential file."""

    name: str
    tokens: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()

    def auth(self, team: Team, actor: str) -> str | None:
        """How `actor` (a member) proves who it is through this deck, as its events must say,
        or None when `Deck` must refuse it with `PermissionDeniedError`: a human only with
        their own token; an agent with its own, or by name on a named board when the deck
        holds no other member's agent token (a credential binds its holder to itself)."""
        if actor in self.tokens:
            return BY_TOKEN
        if actor in self.files:
            return BY_FILE
        if team.human(actor) or not team.named or self.tokens - {actor}:
            return None
        return BY_NAME


def number(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


def lapsed(task: Task, now: datetime) -> bool:
    """In progress with a lease that ran out: the next sweep sends it back to the queue."""
    lease = task.lease_expires_at
    return task.status == "in_progress" and lease is not None and lease < now


def holds(task: Task, actor: str, now: datetime) -> bool:
    """Whether `actor` holds `task` with a live lease (the holder verbs' precondition)."""
    return task.status == "in_progress" and task.assignee == actor and not lapsed(task, now)


def after_sweep(tasks: Mapping[str, Task], now: datetime) -> dict[str, Task]:
    """The tasks as a lease sweep at `now` leaves them: lapsed ones pending and unassigned."""
    return {
        k: dataclasses.replace(t, status="pending", assignee=None, lease_expires_at=None)
        if lapsed(t, now)
        else t
        for k, t in tasks.items()
    }


# -- dependencies ------------------------------------------------------------------------------


def open_blockers(key: str, edges: Mapping[str, set[str]], tasks: Mapping[str, Task]) -> set[str]:
    """The blockers of `key` that are neither done nor cancelled."""
    return {b for b in edges.get(key, set()) if tasks[b].status not in FINISHED_STATUSES}


def open_children(
    key: str, parents: Mapping[str, str | None], tasks: Mapping[str, Task]
) -> set[str]:
    """The subtasks of `key` (an epic) that are neither done nor cancelled."""
    return {c for c, p in parents.items() if p == key and tasks[c].status not in FINISHED_STATUSES}


def reaches(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    """Whether `start` waits on `goal`, directly or through other tasks."""
    seen, todo = set(), [start]
    while todo:
        key = todo.pop()
        if key == goal:
            return True
        if key not in seen:
            seen.add(key)
            todo.extend(edges.get(key, ()))
    return False


def has_cycle(edges: Mapping[str, set[str]]) -> bool:
    return any(reaches(edges, b, key) for key, blockers in edges.items() for b in blockers)


# -- budgets -------------------------------------------------------------------------------------


@dataclass
class Budgets:
    """Token budgets and usage as the test set and recorded them.

    A hard limit is exhausted once usage reaches it (or a limit is set at or below what is
    used); the store flags it at that moment and stops its scope: the tasks in progress there
    go to Needs human, and later work verbs in the scope (claims, heartbeats, doing on a task,
    submit, complete) are refused until a limit above the use is set.
    """

    hard: dict[tuple[str, str], float | None] = field(default_factory=dict)
    usage: list[tuple[str, str | None, int]] = field(default_factory=list)

    def used(self, scope: str, subject: str) -> int:
        return sum(
            tokens
            for actor, key, tokens in self.usage
            if scope == "board"
            or (scope == "agent" and actor == subject)
            or (scope == "task" and key == subject)
        )

    def exhausted(self, scope: str, subject: str) -> bool:
        hard = self.hard.get((scope, subject))
        return hard is not None and self.used(scope, subject) >= hard

    def claim_blocked(self, actor: str, key: str | None) -> bool:
        scopes = [("board", ""), ("agent", actor)] + ([("task", key)] if key else [])
        return any(self.exhausted(*s) for s in scopes)

    def crossed_hard(self, actor: str, key: str | None, tokens: int) -> list[tuple[str, str]]:
        """The budgets that recording `tokens` pushes from under to at or over their hard limit
        (each stops its scope)."""
        scopes = [("board", ""), ("agent", actor)] + ([("task", key)] if key else [])
        crossed = []
        for scope in scopes:
            hard = self.hard.get(scope)
            used = self.used(*scope)
            if hard is not None and used < hard <= used + tokens:
                crossed.append(scope)
        return crossed


def in_scope(scope: tuple[str, str], tasks: Mapping[str, Task]) -> set[str]:
    """The tasks in progress (lease lapsed or not) a stop of budget `scope` sends to Needs human."""
    kind, subject = scope
    return {
        k
        for k, t in tasks.items()
        if t.status == "in_progress"
        and (kind == "board" or (kind == "agent" and t.assignee == subject) or k == subject)
    }


# -- the event log, replayed --------------------------------------------------------------------


@dataclass
class Replayed:
    status: str
    assignee: str | None
    version: int
    verification_logged: bool = False
    creator: str = ""


class Replay:
    """Folds the event log, in id order, into each task's status, holder and version, checking
    that every status change is a move of `agentdeck.core.lifecycle.MOVES` made by someone allowed to.

    Epics: given the model's `parents` (task -> its epic) and `edges` (task -> its blockers), it
    checks that the system completes an epic exactly when the last thing it waits on finished
    (pending, every subtask and blocker finished, one subtask done) and reopens a done or
    in-review epic when a subtask is reopened; `due` holds the epics owed such a move, which
    the events of the same step must have made."""

    def __init__(
        self,
        team: Team,
        parents: Mapping[str, str | None] | None = None,
        edges: Mapping[str, set[str]] | None = None,
    ) -> None:
        self.team = team
        self.parents = parents if parents is not None else {}
        self.edges = edges if edges is not None else {}
        self.tasks: dict[str, Replayed] = {}
        self.last_id = 0
        self.last_at: datetime | None = None
        self.due: dict[str, str] = {}  # epic -> the move owed to it: epic_close or epic_reopen

    def apply(self, e: Event) -> None:
        assert e.id > self.last_id, f"event ids went {self.last_id} -> {e.id}"
        assert self.last_at is None or e.created_at >= self.last_at, f"event {e.id} went back"
        self.last_id, self.last_at = e.id, e.created_at
        assert e.actor == SWEEPER or self.team.on_board(e.actor), f"event {e.id} by {e.actor}"
        if e.actor != SWEEPER:  # every actor proved who it was; a human never by name
            assert e.auth in (BY_TOKEN, BY_FILE, BY_NAME), f"event {e.id} has auth {e.auth!r}"
            if e.auth == BY_NAME:
                assert self.team.named, f"event {e.id}: {e.actor} acted by name on a token board"
                assert not self.team.human(e.actor), f"event {e.id}: human {e.actor} by name"
        if e.task is None:
            assert e.kind in BOARD_EVENT_KINDS, f"unexpected board event {e.kind} ({e.id})"
            return
        assert e.kind in TASK_EVENT_KINDS, f"unexpected task event {e.kind} ({e.id})"
        if e.kind == "created":
            assert e.task not in self.tasks, f"{e.task} created twice"
            assert e.data.get("to") == "pending"
            self.tasks[e.task] = Replayed("pending", None, 1, creator=e.actor)
            return
        t = self.tasks[e.task]
        where = f"event {e.id} ({e.kind} {e.data}) on {e.task}"
        if "verb" in e.data:
            self._move(t, e, where)
        elif e.kind == "assigned" and "from_agent" in e.data:
            assert t.status in EDITS["assign"], f"{where}: assigned while {t.status}"
            assert self.team.human_or_lead(e.actor), f"{where}: {e.actor} may not assign"
            assert e.data["from_agent"] == t.assignee, f"{where}: was {t.assignee}"
            t.assignee, t.version = e.data["to_agent"], t.version + 1
        elif e.kind == "assigned":  # the assignment a new task was created with
            assert t.version == 1 and t.assignee is None, where
            t.assignee = e.data["to"]
        elif e.kind == "priority":
            assert t.status in EDITS["set_priority"], f"{where}: priority while {t.status}"
            assert self.team.human_or_lead(e.actor), f"{where}: {e.actor} may not reprioritise"
            t.version += 1
        elif e.kind == "edited":
            self._edit(t, e, where)
        elif e.kind == "log" and e.subkind == "verification":
            t.verification_logged = True

    def _move(self, t: Replayed, e: Event, where: str) -> None:
        verb = e.data["verb"]
        move = MOVES[verb]
        assert e.kind == move.event, f"{where}: a {verb} writes {move.event}"
        assert e.data["from"] == t.status, f"{where}: the task was {t.status}"
        assert t.status in move.sources, f"{where}: {verb} is not allowed from {t.status}"
        assert e.data["to"] == move.target, f"{where}: {verb} goes to {move.target}"
        if move.who == "holder" and not (verb == "escalate" and e.data.get("reason") == "budget"):
            assert e.actor == t.assignee, f"{where}: {e.actor} does not hold it ({t.assignee})"
        elif move.who == "human":
            assert self.team.human(e.actor), f"{where}: {e.actor} is not a human"
        elif move.who == "human_or_lead":
            assert self.team.human_or_lead(e.actor), f"{where}: {e.actor} is no human or lead"
        elif move.who == "system":
            assert e.actor == SWEEPER, f"{where}: only agentdeck itself moves an epic"
            owed = "epic_reopen" if verb == "epic_reopen" else "epic_close"
            assert self.due.pop(e.task, None) == owed, f"{where}: no {verb} was owed"
        if verb == "approve":
            assert e.actor != t.assignee, f"{where}: {e.actor} approved their own work"
        if verb == "expire":
            assert e.actor == SWEEPER, where
        if verb == "claim":
            assert t.assignee in (None, e.actor), f"{where}: it was assigned to {t.assignee}"
            t.assignee = e.actor
        elif verb in ("release", "expire"):
            t.assignee = None
        elif verb == "reassign":
            assert e.data["from_agent"] == t.assignee, f"{where}: was {t.assignee}"
            t.assignee = e.data["to_agent"]
        was = t.status
        t.status, t.version = move.target, t.version + 1
        self._epics_after(e.task, was, move.target)

    def _children(self, key: str) -> list[Replayed]:
        return [self.tasks[c] for c, p in self.parents.items() if p == key and c in self.tasks]

    def _epics_after(self, key: str | None, was: str, now: str) -> None:
        """What a move of `key` from `was` to `now` owes its epic and its dependents."""
        if key is None or (was in FINISHED_STATUSES) == (now in FINISHED_STATUSES):
            return
        parent = self.parents.get(key)
        if now not in FINISHED_STATUSES:
            if parent is not None and self.tasks[parent].status in ("done", "review"):
                self.due[parent] = "epic_reopen"
            return
        dependents = [k for k, blockers in self.edges.items() if key in blockers]
        for candidate in [*([parent] if parent else []), *dependents]:
            epic = self.tasks.get(candidate)
            children = self._children(candidate)
            blockers = [self.tasks[b] for b in self.edges.get(candidate, ()) if b in self.tasks]
            if (
                epic is not None
                and epic.status == "pending"
                and all(c.status in FINISHED_STATUSES for c in children)
                and any(c.status == "done" for c in children)
                and all(b.status in FINISHED_STATUSES for b in blockers)
            ):
                self.due[candidate] = "epic_close"  # epic_done, or epic_review

    def _edit(self, t: Replayed, e: Event, where: str) -> None:
        """An edit: one event per edit, at least one field changed, each with its before and
        after; by the creator, the lead or a human, else by the assignee adding dependencies
        or appending to the criteria only; on a finished task, labels only."""
        fields = e.data["fields"]
        assert fields and set(fields) == set(e.data["before"]) == set(e.data["after"]), where
        assert all(e.data["before"][f] != e.data["after"][f] for f in fields), where
        if t.status in FINISHED_STATUSES:
            assert fields == ["labels"], f"{where}: a finished task's history was edited"
        if not (self.team.human_or_lead(e.actor) or e.actor == t.creator):
            assert e.actor == t.assignee, f"{where}: {e.actor} may not edit it"
            assert set(fields) <= {"criteria", "dependencies"}, f"{where}: the holder rewrote"
            before, after = e.data["before"], e.data["after"]
            if "dependencies" in fields:
                assert set(before["dependencies"]) < set(after["dependencies"]), where
            if "criteria" in fields:
                assert after["criteria"].startswith(before["criteria"].rstrip()), where
        t.version += 1

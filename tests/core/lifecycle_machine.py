"""The base of the lifecycle state machine: a board to start from, the checked call every rule
makes, the holder's and the human's moves, and the invariants checked after every step.

A fresh SQLite file per example (copied from a migrated template), a fake clock so leases
lapse on demand, and the team `make_web_board` builds, on a board in `token` or `named` mode.
Each step acts through one of a few decks on the same file, each presenting different
credentials (`VIAS`): every member's token, one agent's token only (as an agent's
AGENTDECK_TOKEN), a human's credential file only, or none; the model (`Credentials.auth`)
decides who may act through which. The rules live in `tests/core/test_lifecycle_properties.py`;
the model they consult in `lifecycle_model.py`. Invariants read the store only through `Deck`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from agentdeck.core import Deck, DeckError, LeaseExpiredError, PermissionDeniedError, lifecycle
from agentdeck.core.lifecycle import MOVES
from agentdeck.core.models import STATUSES, Task
from tests.conftest import LEASE_SECONDS, FakeClock, _dump, make_web_board
from tests.core.lifecycle_model import (
    BY_FILE,
    BY_TOKEN,
    Budgets,
    Credentials,
    Replay,
    Team,
    has_cycle,
    holds,
    lapsed,
    number,
    open_children,
)
from tests.core.lifecycle_model import open_blockers as blocking

LEASE = timedelta(seconds=LEASE_SECONDS)
MISSING = "WEB-999"
FIRST_STATUSES = (*STATUSES, "pending", "pending")  # the tasks every board starts with
DEEP_CHECK_EVERY = 20  # steps between full re-reads of the event log and dependency graph
OUTCOMES: Counter[str] = Counter()  # "verb: done" / "verb: refused <error>", over a whole run

# Hypothesis draws the first and last entries of a choice more often than the rest, so the
# wrong choices (a name not on the board, an empty title, a missing key) sit in the middle.
# The team `make_web_board` builds, and `ghost`, who is not on the board.
ACTORS = ("ann", "fe", "bob", "ghost", "be", "sup", "gen")
anyone = st.sampled_from(ACTORS)
# "holder" stands for whoever the task is assigned to (see `_actor`).
workers = st.one_of(st.just("holder"), st.just("holder"), anyone)
humans = st.one_of(st.sampled_from(("ann", "bob")), st.just("holder"), anyone)
bosses = st.one_of(st.sampled_from(("ann", "bob", "sup")), st.just("holder"), anyone)
# The decks a step acts through (see `LifecycleBase.board`); every member's tokens, the most
# often, so the lifecycle still gets deep in an example.
VIAS = ("all", "own", "none", "all", "file", "all")
vias = st.sampled_from(VIAS)
picks = st.integers(0, 99)  # which task: an index into the board's tasks, or a missing key
aims = st.sampled_from((True, False, True, True))  # prefer a task in a status the verb takes
skill_sets = st.sampled_from(
    [(), ("frontend",), (), ("frontend", "python"), ("backend", "python"), ()]
)
titles = st.sampled_from(
    ["Build the login form", "[b]Fix[/b] \x1b[31mthe bug", "   ", "Ship \x1b]8;;http://x\x07it"]
)
notes = st.sampled_from(["fix the failing test", "  ", "[red]use staging[/red]"])
reasons = st.sampled_from(["need staging credentials", " ", "the API is down"])
seen_versions = st.sampled_from(["none", "stale", "seen", "none"])
plan_tasks = st.lists(
    st.fixed_dictionaries(
        {
            "title": titles,
            "priority": st.integers(0, 4),
            "skills": skill_sets,
            # refs to tasks of the plan ("z" is none), or picks of existing tasks
            "blocked_by": st.lists(st.one_of(st.sampled_from("azba"), picks), max_size=2),
        }
    ),
    min_size=2,
    max_size=3,
)


first_tasks = st.lists(
    st.tuples(
        st.integers(0, 4),  # priority
        skill_sets,
        st.booleans(),  # requires approval
        st.sampled_from(("gen", "ann", "fe", "bob", "be")),  # who worked on it
        st.lists(st.integers(0, len(FIRST_STATUSES)), max_size=1),  # which earlier task it waits on
        st.booleans(),  # extra: see `_bring`
    ),
    min_size=len(FIRST_STATUSES),
    max_size=len(FIRST_STATUSES),
)


def holder_rule(verb: str, **more: st.SearchStrategy[Any]) -> Callable[..., None]:
    """A rule where `who` makes the holder's move `verb` (submit, complete, ...) on a task."""

    def run(self: LifecycleBase, who: str, pick: int, aim: bool, via: str, **kwargs: Any) -> None:
        self._through(via)
        self._holder_verb(verb, who, pick, aim, **kwargs)

    run.__name__ = run.__qualname__ = verb
    return rule(who=workers, pick=picks, aim=aims, via=vias, **more)(run)  # type: ignore[no-any-return]


def human_rule(verb: str, **more: st.SearchStrategy[Any]) -> Callable[..., None]:
    """A rule where `who` makes the human's move `verb` (approve, reject, ...) on a task."""

    def run(self: LifecycleBase, who: str, pick: int, aim: bool, via: str, **kwargs: Any) -> None:
        self._through(via)
        self._human_verb(verb, who, pick, aim, **kwargs)

    run.__name__ = run.__qualname__ = verb
    return rule(who=humans, pick=picks, aim=aims, seen=seen_versions, via=vias, **more)(run)  # type: ignore[no-any-return]


class LifecycleBase(RuleBasedStateMachine):
    """One board, its team, the model of what they did, and the invariants."""

    def __init__(self, template: Path) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="agentdeck-lifecycle-"))
        shutil.copyfile(template, self.dir / "board.db")
        self.clock = FakeClock()
        # Every member's tokens (it minted them): sets the board up and reads it.
        self.deck = Deck.open(self.dir / "board.db", clock=self.clock)
        self.decks: dict[str, tuple[Deck, Credentials]] = {}  # the decks a step acts through
        self.acting, self.via = self.deck, Credentials("all")  # this step's (set by `board`)
        self.keys: list[str] = []  # every task created, in key order
        self.edges: dict[str, set[str]] = {}  # task -> the tasks it waits on
        self.parents: dict[str, str | None] = {}  # task -> its epic
        self.tasks: dict[str, Task] = {}  # as the last invariant check read them
        self.budgets = Budgets()
        self.may_change: set[str] = set()  # tasks the last step may have moved or edited
        self.relinked: set[str] = set()  # tasks whose stored dependencies the check re-reads
        self.log: list[tuple[Any, ...]] = []  # every event read so far, to prove append-only
        self.checks = 0

    @initialize(
        require_verification=st.booleans(),
        mode=st.sampled_from(("token", "named")),
        own=st.sampled_from(("gen", "sup", "fe", "be")),
        statuses=st.permutations(FIRST_STATUSES),
        first=first_tasks,
        epic_approval=st.booleans(),
    )
    def board(
        self,
        require_verification: bool,
        mode: str,
        own: str,
        statuses: list[str],
        first: list[Any],
        epic_approval: bool,
    ) -> None:
        """The WEB board (its agents acting by token or by name) and its team with a task in
        each status (three pending, some waiting on an earlier task), so that every verb has
        work from the first step, whichever rules this example leaves out; and the decks the
        steps act through: "all" every member's token, "own" agent `own`'s token only,
        "file" human bob's credential file only, "none" no credential."""
        make_web_board(self.deck, require_verification=require_verification, agents=mode)
        self.require_verification = require_verification
        self.team = Team.of(self.deck.list_agents(), self.deck.get_board().lead, mode)
        self.replay = Replay(self.team, self.parents, self.edges)
        everyone = frozenset(self.team.members)
        self.decks = {
            "all": (self.deck, Credentials("all", tokens=everyone)),
            "own": (self._open(own, BY_TOKEN), Credentials("own", tokens=frozenset({own}))),
            "file": (self._open("bob", BY_FILE), Credentials("file", files=frozenset({"bob"}))),
            "none": (self._open(), Credentials("none")),
        }
        self._through("all")
        specs = [
            {"title": f"Task {i}", "priority": p, "skills": list(s), "requires_approval": a}
            for i, (p, s, a, *_) in enumerate(first)
        ]
        created = self.deck.plan(specs, actor="sup")
        for i, (task, status, (*_, holder, waits, extra)) in enumerate(
            zip(created, statuses, first, strict=True)
        ):
            self._created(task.key, set())
            self._bring(task, status, holder, extra)
            for blocker in {self.keys[w % i] for w in waits} if i else ():
                self.deck.add_dependency(task.key, blocker, actor="sup")
                self.edges[task.key].add(blocker)
        # An epic with two subtasks, one done and one in progress with its evidence logged, so
        # that an example often finishes the last (the epic completes); and one whose only
        # subtask is done (so it completed already), so that reopening that subtask reopens it.
        for parts in (("in_progress", "done"), ("done",)):
            epic = self.deck.add_task("Epic", actor="sup", requires_approval=epic_approval)
            self._created(epic.key, set())
            for status in parts:
                part = self.deck.add_task(f"Part of {epic.key}", actor="sup", parent=epic.key)
                self._created(part.key, set(), epic.key)
                self._bring(part, status, "gen", True)

    def _bring(self, task: Task, status: str, holder: str, extra: bool) -> None:
        """Move a new task to `status` by the usual verbs, `holder` doing the work. With
        `extra`, a pending task is assigned to `holder` and a task in progress has a
        verification entry in its log."""
        key, deck = task.key, self.deck
        if status == "cancelled":
            deck.cancel(key, actor="ann", reason="not needed")
        if status == "pending" and extra:
            deck.assign(key, holder, actor="ann")
        if status in ("pending", "cancelled"):
            return
        deck.claim(holder, key=key)
        if status == "in_progress" and extra:
            deck.log(key, "pytest: 12 passed", actor=holder, kind="verification")
        if status == "review" or (status == "done" and task.requires_approval):
            deck.submit(key, actor=holder, result="first draft", verified_by="pytest")
            if status == "done":
                deck.approve(key, actor="bob" if holder == "ann" else "ann")
        elif status == "done":
            deck.complete(key, actor=holder, result="shipped", verified_by="pytest")
        elif status == "escalated":
            deck.escalate(key, actor=holder, reason="need staging credentials")
        elif status == "failed":
            deck.fail(key, actor=holder, reason="the API is down")

    def _open(self, member: str = "", source: str = BY_TOKEN) -> Deck:
        """Another deck on the board's file presenting `member`'s token (none without one)."""
        deck = Deck.open(self.dir / "board.db", clock=self.clock)
        if member:
            deck.present(self.deck.issued_token(member, "WEB") or "", source)
        return deck

    def teardown(self) -> None:
        for deck, _ in self.decks.values():
            if deck is not self.deck:
                deck.close()
        self.deck.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- what the rules share -------------------------------------------------------------------

    def _key(self, pick: int, aim: bool = False, statuses: tuple[str, ...] = ()) -> str:
        """A task key from `pick`: mostly an existing task (with `aim`, preferably one in
        `statuses`), sometimes in lower case, now and then one that does not exist."""
        pool = self.keys
        if aim:
            pool = [k for k in self.keys if self.tasks[k].status in statuses] or pool
        if not pool or pick % 25 == 12:
            return MISSING
        key = pool[pick % len(pool)]
        return key.lower() if pick % 9 == 8 else key

    def _through(self, via: str) -> None:
        """Make this step act through the deck `via` names."""
        self.acting, self.via = self.decks[via]

    def _actor(self, who: str, key: str) -> str:
        """`who`, where "holder" means the task's assignee (gen when it has none)."""
        if who != "holder":
            return who
        task = self.tasks.get(key.upper())
        return task.assignee if task is not None and task.assignee else "gen"

    def _attempt(
        self,
        verb: str,
        call: Callable[[], Any],
        *,
        ok: bool,
        events: bool = True,
        actor: str | None = None,
    ) -> tuple[bool, Any]:
        """Run `call`, made by `actor` through this step's deck. A refusal must be a one-line
        `DeckError` the model expected (`PermissionDeniedError` when `ok` but the actor cannot
        prove who it is through this deck), and must have written nothing (a refusal for a
        lapsed lease may sweep leases first); a success must be one the model allows, must
        have appended an event, and the actor's events must say how it proved who it was."""
        before, cursor = _dump(self.deck), self.replay.last_id
        how = self.via.auth(self.team, actor) if actor and self.team.on_board(actor) else None
        if actor is not None and ok and how is None:
            ok, verb = False, f"{verb} (credentials)"
            expected: type[DeckError] = PermissionDeniedError
        else:
            expected = DeckError
        try:
            result = call()
        except DeckError as exc:
            OUTCOMES[f"{verb}: refused {type(exc).__name__}"] += 1
            assert not ok, (
                f"{verb} via {self.via.name} was refused though the model allows it: {exc}"
            )
            assert isinstance(exc, expected), (
                f"{verb} by {actor} via {self.via.name}: {type(exc).__name__}, not "
                f"{expected.__name__}: {exc}"
            )
            assert "\n" not in str(exc) and 1 <= exc.exit_code <= 5, repr(exc)
            if isinstance(exc, LeaseExpiredError):
                self._check_only_swept(before, cursor)
            else:
                assert _dump(self.deck) == before, f"the refused {verb} changed the database"
            return False, None
        OUTCOMES[f"{verb}: done"] += 1
        assert ok, f"{verb} by {actor} via {self.via.name} succeeded though the model refuses it"
        if events:
            assert self.deck.max_event_id() > cursor, f"{verb} wrote no event"
        if actor is not None:
            written = [e.auth for e in self.deck.events_since(cursor) if e.actor == actor]
            assert set(written) <= {how}, f"{verb} by {actor} via {self.via.name}: {written}"
        return True, result

    def _check_only_swept(self, before: list[tuple[str, Any]], cursor: int) -> None:
        """A refusal for a lapsed lease may sweep the board's lapsed leases, and nothing else."""
        swept = {k for k, t in self.tasks.items() if lapsed(t, self.clock.now)}
        new = self.deck.events_since(cursor, limit=100_000)
        assert {e.kind for e in new} <= {"lease_expired"}, [e.kind for e in new]
        assert {e.task for e in new} <= swept
        self.may_change = swept
        kept = {"task", "event", "agent"}  # what a sweep writes; the invariants check those
        assert [t for t in _dump(self.deck) if t[0] not in kept] == [
            t for t in before if t[0] not in kept
        ], "a refusal for a lapsed lease changed more than the leases"

    def _created(self, key: str, blockers: set[str], parent: str | None = None) -> None:
        assert key == f"WEB-{len(self.keys) + 1}", key
        self.keys.append(key)
        self.edges[key] = blockers
        self.parents[key] = parent
        self.relinked.add(key)

    def _waits(self, key: str, tasks: dict[str, Task]) -> bool:
        """Whether `key` waits on an unfinished blocker or (an epic) an unfinished subtask."""
        return bool(blocking(key, self.edges, tasks) or open_children(key, self.parents, tasks))

    def _ready_for(self, actor: str, tasks: dict[str, Task]) -> list[str]:
        """Keys `actor` may claim next, best first: its own assignments, then unassigned
        tasks its skills fit, each by priority then age."""
        keys = [
            k
            for k, t in tasks.items()
            if t.status == "pending"
            and not self._waits(k, tasks)
            and (
                t.assignee == actor
                or (t.assignee is None and self.team.fits(actor, t.required_skills))
            )
        ]
        return sorted(
            keys, key=lambda k: (tasks[k].assignee != actor, tasks[k].priority, number(k))
        )

    # -- the lifecycle moves, for the rules `holder_rule` and `human_rule` make ----------------

    def _holder_verb(
        self, verb: str, who: str, pick: int, aim: bool, evidence: bool = False, reason: str = ""
    ) -> None:
        """submit, complete, fail, escalate or release: only the holder, with a live lease."""
        key = self._key(pick, aim, ("in_progress",))
        k, actor = key.upper(), self._actor(who, key)
        t = self.tasks.get(k)
        ok = t is not None and self.team.on_board(actor) and holds(t, actor, self.clock.now)
        if verb in ("submit", "complete"):  # work verbs: refused where a hard budget is spent
            ok = ok and not self.budgets.claim_blocked(actor, k)
        verified = evidence or (k in self.replay.tasks and self.replay.tasks[k].verification_logged)
        if verb == "complete":
            ok = ok and t is not None and not t.requires_approval
            ok = ok and (verified or not self.require_verification)
        if verb == "escalate":
            ok = ok and bool(reason.strip())
        proof = "pytest: 12 passed" if evidence else ""
        calls: dict[str, Callable[[], Any]] = {
            "submit": lambda: self.acting.submit(
                key, actor=actor, result="done", verified_by=proof
            ),
            "complete": lambda: self.acting.complete(key, actor=actor, verified_by=proof),
            "fail": lambda: self.acting.fail(key, actor=actor, reason=reason),
            "escalate": lambda: self.acting.escalate(key, actor=actor, reason=reason),
            "release": lambda: self.acting.release(key, actor=actor, note=reason),
        }
        done, result = self._attempt(verb, calls[verb], ok=ok, actor=actor)
        if done:
            self.may_change = {k}
            task = result.task if verb == "complete" else result
            assert task.status == MOVES[verb].target
            if verb in ("submit", "complete"):
                assert task.verified == verified
            if verb == "complete":
                assert (result.nudge is None) == verified

    def _human_verb(
        self, verb: str, who: str, pick: int, aim: bool, seen: str, note: str = ""
    ) -> None:
        """approve, reject, reopen, answer or cancel: only a human, from the move's statuses,
        with the version seen (if one is given), notes where the agent needs them."""
        move = MOVES[verb]
        key = self._key(pick, aim, move.sources)
        k, actor = key.upper(), self._actor(who, key)
        t, version = self._seen(k, seen)
        ok = (
            t is not None
            and self.team.human(actor)
            and version in (None, t.version)
            and t.status in move.sources
            and (verb not in ("reject", "reopen", "answer") or bool(note.strip()))
            and (verb != "approve" or t.assignee != actor)  # never one's own work
        )
        v = version
        calls: dict[str, Callable[[], Any]] = {
            "approve": lambda: self.acting.approve(key, actor=actor, expected_version=v),
            "reject": lambda: self.acting.reject(key, actor=actor, notes=note, expected_version=v),
            "reopen": lambda: self.acting.reopen(key, actor=actor, notes=note, expected_version=v),
            "answer": lambda: self.acting.answer(key, actor=actor, text=note, expected_version=v),
            "cancel": lambda: self.acting.cancel(key, actor=actor, reason=note, expected_version=v),
        }
        done, task = self._attempt(verb, calls[verb], ok=ok, actor=actor)
        if done:
            self.may_change = {k}
            assert task.status == move.target

    def _seen(self, key: str, seen: str) -> tuple[Task | None, int | None]:
        """The task as last read, and the version a human passes: none, the one seen, or stale."""
        task = self.tasks.get(key)
        if task is None or seen == "none":
            return task, None
        return task, task.version if seen == "seen" else task.version - 1

    # -- the invariants -------------------------------------------------------------------------

    @invariant()
    def store_keeps_its_invariants(self) -> None:
        """One holder per task, moves only by the lifecycle's table, an event log that
        replays to every task, readiness in step with the dependencies, no cycle."""
        now = self.clock.now
        tasks = {t.key: t for t in self.deck.list_tasks(include_cancelled=True, limit=10_000)}
        assert sorted(tasks, key=number) == self.keys, "tasks appeared or vanished"
        for e in self.deck.events_since(self.replay.last_id, limit=100_000):
            self.replay.apply(e)
            self.log.append((e.id, e.task, e.actor, e.kind, e.subkind, e.data))
            if e.data.get("verb") in lifecycle.SYSTEM_VERBS:
                OUTCOMES[f"{e.data['verb']} (by the system): done"] += 1
            if e.task is not None and e.data.get("verb") in ("epic_done", "epic_review"):
                # An epic completes by itself, to review exactly when it requires approval.
                needs = tasks[e.task].requires_approval
                assert (e.data["verb"] == "epic_review") == needs, (e.task, e.data)
                self.may_change.add(e.task)
            elif e.data.get("verb") == "epic_reopen":
                self.may_change.add(str(e.task))
        assert not self.replay.due, f"epics owed a move they did not get: {self.replay.due}"
        changed = {k for k, t in self.tasks.items() if tasks[k].version != t.version}
        assert changed <= self.may_change, f"{changed - self.may_change} changed unasked"
        for key, t in tasks.items():
            r = self.replay.tasks[key]
            assert (t.status, t.assignee, t.version) == (r.status, r.assignee, r.version), (
                f"{key} is {t.status}/{t.assignee}/v{t.version}; its events replay to "
                f"{r.status}/{r.assignee}/v{r.version}"
            )
            _one_holder(t, now)
            blockers = blocking(key, self.edges, tasks)
            assert set(t.blocked_by) == blockers, f"{key} waits on {t.blocked_by}, not {blockers}"
            if t.status == "pending":
                waits = self._waits(key, tasks)
                assert t.column == ("blocked" if waits else "ready"), (key, t.column)
            kids = [tasks[c] for c, p in self.parents.items() if p == key]
            assert (t.subtasks_done, t.subtasks_total) == (
                sum(c.status == "done" for c in kids),
                sum(c.status != "cancelled" for c in kids),
            ), key
            if t.status == "in_progress":  # a spent hard budget leaves no work going in its scope
                assert t.assignee is not None
                assert not self.budgets.claim_blocked(t.assignee, key), f"{key} runs over budget"
            assert t.over_budget == self.budgets.exhausted("task", key), key
        for agent in self.deck.list_agents():
            if agent.current_task is not None:
                held = tasks[agent.current_task]
                assert (held.status, held.assignee) == ("in_progress", agent.name), agent
        self._ready_queue(tasks)
        for status in self.deck.budget_status():
            assert status.used == self.budgets.used(status.scope, status.subject), status
        self._stored_dependencies(tasks, self.relinked)
        self.checks += 1
        if self.checks % DEEP_CHECK_EVERY == 0:
            self._deep_check(tasks)
        self.tasks, self.may_change, self.relinked = tasks, set(), set()

    def _ready_queue(self, tasks: dict[str, Task]) -> None:
        """`ready()` lists exactly the pending tasks whose blockers and subtasks are all
        finished, by priority then age; `ready(agent=...)` (one member per step) what that member may claim."""
        ready = [t.key for t in self.deck.ready(limit=10_000)]
        expected = sorted(
            (k for k, t in tasks.items() if t.status == "pending" and not self._waits(k, tasks)),
            key=lambda k: (tasks[k].priority, number(k)),
        )
        assert ready == expected, f"ready() is {ready}, not {expected}"
        member = sorted(self.team.members)[self.checks % len(self.team.members)]
        mine = [t.key for t in self.deck.ready(agent=member, limit=10_000)]
        assert mine == self._ready_for(member, tasks), f"ready({member}) is {mine}"

    def _stored_dependencies(self, tasks: dict[str, Task], keys: set[str]) -> None:
        """The dependencies `Deck` reports for `keys` are the model's, with live statuses."""
        for key in sorted(keys):
            stored = dict(self.deck.task_detail(key).blocked_by_all)
            assert set(stored) == self.edges[key], f"{key} waits on {sorted(stored)}"
            assert all(tasks[b].status == s for b, s in stored.items()), stored

    def _deep_check(self, tasks: dict[str, Task]) -> None:
        """The whole event log is what was read step by step (append-only), and the whole
        stored dependency graph is the model's, which has no cycle."""
        whole = self.deck.events_since(0, limit=1_000_000)
        assert [(e.id, e.task, e.actor, e.kind, e.subkind, e.data) for e in whole] == self.log
        self._stored_dependencies(tasks, set(tasks))
        assert not has_cycle(self.edges)


def _one_holder(t: Task, now: datetime) -> None:
    """A held task has one holder with a lease of at most one lease period; others none."""
    if t.status == "in_progress":
        assert t.assignee is not None and t.lease_expires_at is not None, t
        assert t.lease_expires_at <= now + LEASE, t
        assert t.lease_stale == (t.lease_expires_at < now), t
    else:
        assert t.lease_expires_at is None and not t.lease_stale, t

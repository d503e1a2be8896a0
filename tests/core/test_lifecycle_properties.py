"""Any sequence of verbs, by anyone, with any credentials, on any task, keeps the store's
invariants.

A hypothesis state machine drives a real `Deck` on a fresh SQLite file per example, with a
fake clock so leases lapse on demand. Each rule calls one verb with a random, often wrong,
actor and task, through a deck holding every member's token, one agent's token only, a
human's credential file only, or no credential, on a board whose agents act by token or by
name (switched now and then by a human): the call either succeeds when the model says it
may (and its events say how the actor proved who it was), or is refused with a one-line
`DeckError` (anything else fails the test; `PermissionDeniedError` when only the
credentials are wrong) that left the database exactly as it was. After every step, reading only through `Deck`: one holder per task, statuses changed
only by the lifecycle's allowed moves, an append-only event log that replays to every task's
status, holder and version, readiness in step with the dependencies and subtasks (an epic with
an open subtask is never ready nor claimed, shows its progress, and is completed or reopened by
the system exactly when the events say it is owed), and no dependency cycle (see
`lifecycle_machine.py` and `lifecycle_model.py`). Edits replay too: each by the
creator, the lead or a human, or by the holder adding dependencies or criteria notes only;
on a finished task, labels only; one event per edit that changed something.

CI runs 60 examples of 40 steps (~20 s); a long run: `AGENTDECK_PROPERTY_EXAMPLES=1000
pytest tests/core/test_lifecycle_properties.py -s` (prints how often each verb was done or
refused). A heartbeat is the one mutation that writes no event: it renews leases only.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test

from agentdeck.core import Deck
from agentdeck.core.lifecycle import EDITS, MOVES
from agentdeck.core.models import FINISHED_STATUSES as FINISHED
from agentdeck.core.models import LOG_KINDS
from tests.conftest import LEASE_SECONDS
from tests.core.lifecycle_machine import (
    LEASE,
    MISSING,
    OUTCOMES,
    LifecycleBase,
    aims,
    anyone,
    bosses,
    holder_rule,
    human_rule,
    humans,
    notes,
    picks,
    plan_tasks,
    reasons,
    seen_versions,
    skill_sets,
    titles,
    vias,
    workers,
)
from tests.core.lifecycle_model import (
    after_sweep,
    has_cycle,
    holds,
    in_scope,
    lapsed,
    number,
    reaches,
)

# Who edits: the lead, a human, the holder, or anyone (the creator among them, at times).
editors = st.one_of(st.sampled_from(("sup", "ann", "bob")), st.just("holder"), anyone)
# Edits act mostly through the deck holding every token, so most get past who-is-acting.
edit_vias = st.sampled_from(("all", "own", "all", "file", "all", "none", "all"))
edit_changes = st.sampled_from(
    [
        ("title", "Rewritten \x1b[31mtitle"),
        ("add_dep", None),
        ("note", "found another step"),
        ("criteria", "Easier criteria"),
        ("label", "ui"),
        ("title", "   "),
        ("remove_dep", None),
        ("unlabel", "ui"),
        ("priority", 0),
    ]
)

EXAMPLES = int(os.environ.get("AGENTDECK_PROPERTY_EXAMPLES", "60"))
STEPS = int(os.environ.get("AGENTDECK_PROPERTY_STEPS", "40"))


class LifecycleMachine(LifecycleBase):
    """The rules: every verb of the lifecycle, called with arguments right or wrong."""

    # -- creating tasks and dependencies -----------------------------------------------------

    @rule(
        actor=anyone,
        title=titles,
        priority=st.integers(0, 4),
        skills=skill_sets,
        approval=st.booleans(),
        assignee=st.none() | anyone,
        blockers=st.lists(picks, max_size=3),
        parent=st.none() | picks,
        via=vias,
    )
    def add_task(
        self, actor, title, priority, skills, approval, assignee, blockers, parent, via
    ) -> None:  # type: ignore[no-untyped-def]
        """A new task, now and then a subtask of another (which makes that one an epic)."""
        self._through(via)
        blocked_by = [self._key(p) for p in blockers]
        epic = self._key(parent) if parent is not None else None
        ok = (
            bool(title.strip())
            and self.team.on_board(actor)
            and (assignee is None or self.team.on_board(assignee))
            and all(b.upper() in self.tasks for b in blocked_by)
            # a subtask of an existing task that is not finished
            and (
                epic is None
                or (epic.upper() in self.tasks and self.tasks[epic.upper()].status not in FINISHED)
            )
        )
        done, task = self._attempt(
            "add_task",
            lambda: self.acting.add_task(
                title,
                actor=actor,
                priority=priority,
                skills=skills,
                requires_approval=approval,
                assignee=assignee,
                blocked_by=blocked_by,
                parent=epic,
            ),
            ok=ok,
            actor=actor,
        )
        if done:
            self._created(task.key, {b.upper() for b in blocked_by}, epic.upper() if epic else None)

    @rule(actor=anyone, pick=picks, blocker=picks, via=vias)
    def add_dependency(self, actor: str, pick: int, blocker: int, via: str) -> None:
        self._through(via)
        key, on = self._key(pick), self._key(blocker)
        k, b = key.upper(), on.upper()
        ok = (
            k in self.tasks
            and b in self.tasks
            and self.team.on_board(actor)
            and not reaches(self.edges, b, k)  # a cycle, or a task waiting on itself
        )
        done, _ = self._attempt(
            "add_dependency",
            lambda: self.acting.add_dependency(key, on, actor=actor),
            ok=ok,
            actor=actor,
        )
        if done:
            self.edges[k].add(b)
            self.relinked.add(k)

    @rule(actor=anyone, specs=plan_tasks, via=vias)
    def plan(self, actor: str, specs: list[dict[str, Any]], via: str) -> None:
        self._through(via)
        refs = "abc"[: len(specs)]
        tasks = [
            {
                **spec,
                "ref": ref,
                "skills": list(spec["skills"]),
                "blocked_by": [
                    b if isinstance(b, str) else self._key(b) for b in spec["blocked_by"]
                ],
            }
            for ref, spec in zip(refs, specs, strict=True)
        ]
        key_of = {ref: f"WEB-{len(self.keys) + 1 + i}" for i, ref in enumerate(refs)}
        edges = {key_of[t["ref"]]: set[str]() for t in tasks}
        ok = self.team.on_board(actor) and all(t["title"].strip() for t in tasks)
        for t in tasks:
            for name in t["blocked_by"]:
                known = key_of.get(name) or (name.upper() if name.upper() in self.tasks else None)
                ok = ok and known is not None  # a ref outside the plan, or no such task
                edges[key_of[t["ref"]]].add(known or MISSING)
        ok = ok and not has_cycle(edges)  # existing tasks never wait on new ones
        done, created = self._attempt(
            "plan", lambda: self.acting.plan(tasks, actor=actor), ok=ok, actor=actor
        )
        if done:
            assert [t.key for t in created] == list(key_of.values())
            for key, blockers in edges.items():
                self._created(key, blockers)

    # -- the agent's side ----------------------------------------------------------------------

    @rule(who=workers, pick=picks, via=vias)
    def claim_next(self, who: str, pick: int, via: str) -> None:
        """`who` (as "holder": the assignee of a pending task) claims the best ready task."""
        self._through(via)
        actor = self._actor(who, self._key(pick, True, ("pending",)))
        now = self.clock.now
        swept = after_sweep(self.tasks, now)  # a claim first sweeps lapsed leases
        ok = self.team.on_board(actor) and not self.budgets.claim_blocked(actor, None)
        fits = self._ready_for(actor, swept) if ok else []
        fits = [k for k in fits if not self.budgets.exhausted("task", k)]  # spent task budgets
        best = fits[0] if fits else None
        done, claim = self._attempt(
            "claim", lambda: self.acting.claim(actor), ok=ok, actor=actor, events=best is not None
        )
        if done:
            assert (claim.task.key if claim else None) == best, "claimed the wrong task"
            self.may_change = {k for k, t in self.tasks.items() if lapsed(t, now)} | {best}
            if claim is not None:
                t = claim.task
                assert (t.status, t.assignee, t.lease_expires_at) == (
                    "in_progress",
                    actor,
                    now + LEASE,
                )

    @rule(actor=anyone, pick=picks, aim=aims, via=vias)
    def claim_key(self, actor: str, pick: int, aim: bool, via: str) -> None:
        self._through(via)
        key = self._key(pick, aim, ("pending",))
        k, now = key.upper(), self.clock.now
        swept = after_sweep(self.tasks, now)
        t = swept.get(k)
        ok = (
            t is not None
            and self.team.on_board(actor)
            and not self.budgets.claim_blocked(actor, k)
            and t.status == "pending"
            and not self._waits(k, swept)  # neither blocked nor an epic with open subtasks
            and t.assignee in (None, actor)
        )
        done, claim = self._attempt(
            "claim", lambda: self.acting.claim(actor, key=key), ok=ok, actor=actor
        )
        if done:
            assert (claim.task.key, claim.task.status, claim.task.assignee) == (
                k,
                "in_progress",
                actor,
            )
            self.may_change = {x for x, t in self.tasks.items() if lapsed(t, now)} | {k}

    @rule(who=workers, pick=picks, via=vias)
    def heartbeat(self, who: str, pick: int, via: str) -> None:
        """`who` (as "holder": the holder of a task in progress) renews its live leases."""
        self._through(via)
        actor = self._actor(who, self._key(pick, True, ("in_progress",)))
        now = self.clock.now
        held = sorted((k for k, t in self.tasks.items() if holds(t, actor, now)), key=number)
        done, renewed = self._attempt(
            "heartbeat",
            lambda: self.acting.heartbeat(actor),
            ok=self.team.on_board(actor) and not self.budgets.claim_blocked(actor, None),
            actor=actor,
            events=False,
        )
        if done:
            assert renewed == held
            assert self.deck.max_event_id() == self.replay.last_id, "a heartbeat wrote an event"
            for key in held:
                assert self.deck.get_task(key).lease_expires_at == now + LEASE

    @rule(who=workers, pick=picks, aim=aims, on_task=st.booleans(), via=vias)
    def doing(self, who: str, pick: int, aim: bool, on_task: bool, via: str) -> None:
        self._through(via)
        key = self._key(pick, aim, ("in_progress",)) if on_task else None
        actor = self._actor(who, key or "")
        t = self.tasks.get(key.upper()) if key else None
        ok = self.team.on_board(actor) and (
            key is None
            or (
                t is not None
                and holds(t, actor, self.clock.now)
                and not self.budgets.claim_blocked(actor, t.key)
            )
        )
        self._attempt(
            "doing",
            lambda: self.acting.doing(actor, "Writing [b]SQL[/b]", key=key),
            ok=ok,
            actor=actor,
        )

    @rule(
        who=workers,
        pick=picks,
        aim=aims,
        kind=st.sampled_from((*LOG_KINDS[:2], "rumour", *LOG_KINDS[2:])),
        text=st.sampled_from(["ran pytest: 12 passed", " ", "[b]observed[/b] \x1b[2J"]),
        via=vias,
    )
    def log(self, who: str, pick: int, aim: bool, kind: str, text: str, via: str) -> None:
        self._through(via)
        key = self._key(pick, aim, ("in_progress", "review", "escalated"))
        actor = self._actor(who, key)
        t = self.tasks.get(key.upper())
        ok = (
            kind in LOG_KINDS
            and bool(text.strip())
            and t is not None
            and self.team.on_board(actor)
            and (
                self.team.human(actor)
                or (t.status in ("review", "escalated") and t.assignee == actor)
                or holds(t, actor, self.clock.now)
            )
        )
        self._attempt(
            "log", lambda: self.acting.log(key, text, actor=actor, kind=kind), ok=ok, actor=actor
        )

    @rule(
        who=workers,
        pick=picks,
        on_task=st.booleans(),
        tokens=st.sampled_from((0, 50, -1, 120, 400)),
        via=vias,
    )
    def record_usage(self, who: str, pick: int, on_task: bool, tokens: int, via: str) -> None:
        self._through(via)
        key = self._key(pick) if on_task else None
        k = key.upper() if key else None
        actor = self._actor(who, key or "")
        ok = (
            tokens >= 0
            and self.team.on_board(actor)
            and (
                k is None  # the board alone: always the actor's own usage
                or (
                    k in self.tasks
                    and (self.team.human_or_lead(actor) or self.tasks[k].assignee == actor)
                )
            )
        )
        crossed = self.budgets.crossed_hard(actor, k, tokens) if ok else []
        stops = set().union(*(in_scope(scope, self.tasks) for scope in crossed))
        done, _ = self._attempt(
            "record_usage",
            lambda: self.acting.record_usage(key, actor=actor, tokens_in=tokens, cost_usd=0.01),
            ok=ok,
            actor=actor,
        )
        if done:
            self.budgets.usage.append((actor, k, tokens))
            self._stopped(stops)

    @rule(
        actor=anyone,
        pick=picks,
        text=st.sampled_from(["looks good", "  ", "[red]rm -rf[/red] \x1b[2J"]),
        via=vias,
    )
    def comment(self, actor: str, pick: int, text: str, via: str) -> None:
        """Any member comments on any task, in any status: no move, no version."""
        self._through(via)
        key = self._key(pick)
        ok = key.upper() in self.tasks and self.team.on_board(actor) and bool(text.strip())
        done, said = self._attempt(
            "comment", lambda: self.acting.comment(key, text, actor=actor), ok=ok, actor=actor
        )
        if done:
            assert (said.kind, said.task, said.text) == ("comment", key.upper(), text)

    submit = holder_rule("submit", evidence=st.booleans())
    complete = holder_rule("complete", evidence=st.booleans())
    fail = holder_rule("fail", reason=reasons)
    escalate = holder_rule("escalate", reason=reasons)
    release = holder_rule("release", reason=reasons)

    # -- the human's side ----------------------------------------------------------------------

    approve = human_rule("approve")
    reject = human_rule("reject", note=notes)
    reopen = human_rule("reopen", note=notes)
    answer = human_rule("answer", note=notes)
    cancel = human_rule("cancel", note=notes)

    @rule(
        who=bosses, pick=picks, aim=aims, assignee=st.none() | anyone, seen=seen_versions, via=vias
    )
    def assign(
        self, who: str, pick: int, aim: bool, assignee: str | None, seen: str, via: str
    ) -> None:
        self._through(via)
        key = self._key(pick, aim, EDITS["assign"])
        k, actor = key.upper(), self._actor(who, key)
        t, version = self._seen(k, seen)
        ok = (
            t is not None
            and self.team.human_or_lead(actor)
            and version in (None, t.version)
            and t.status in EDITS["assign"]
            and (assignee is None or self.team.on_board(assignee))
        )
        done, task = self._attempt(
            "assign",
            lambda: self.acting.assign(key, assignee, actor=actor, expected_version=version),
            ok=ok,
            actor=actor,
        )
        if done and t is not None:
            self.may_change = {k}
            moves = t.status in MOVES["reassign"].sources  # a held or escalated task: pending
            assert (task.status, task.assignee) == ("pending" if moves else t.status, assignee)

    @rule(
        who=editors,
        pick=picks,
        aim=aims,
        change=edit_changes,
        other=picks,
        seen=st.sampled_from(("seen", "seen", "stale", "seen", "seen")),
        via=edit_vias,
    )
    def edit_task(
        self,
        who: str,
        pick: int,
        aim: bool,
        change: tuple[str, Any],
        other: int,
        seen: str,
        via: str,
    ) -> None:
        """An edit of one field by anyone, as of the version seen or a stale one: allowed to
        the creator, the lead and humans; to the assignee, only adding a dependency or a
        criteria note; on a finished task, only labels. Refused dependency cycles; an edit
        that changes nothing writes nothing."""
        self._through(via)
        key = self._key(pick, aim, ("pending", "in_progress", "failed", "done"))
        k, actor = key.upper(), self._actor(who, key)
        t, version = self._seen(k, seen)
        field, value = change
        on = self._key(other)
        b = on.upper()
        arguments: dict[str, Any] = {
            "title": {"title": value},
            "criteria": {"criteria": value},
            "note": {"criteria_note": value},
            "add_dep": {"add_dependencies": [on]},
            "remove_dep": {"remove_dependencies": [on]},
            "label": {"add_labels": [value]},
            "unlabel": {"remove_labels": [value]},
            "priority": {"priority": value},
        }[field]
        creator = self.replay.tasks[k].creator if k in self.replay.tasks else None
        ok = t is not None and self.team.on_board(actor) and version == t.version
        if ok and t is not None:
            full = self.team.human_or_lead(actor) or actor == creator
            ok = full or (t.assignee == actor and field in ("add_dep", "note"))
            if t.status in ("done", "cancelled"):
                ok = ok and field in ("label", "unlabel")
            if field == "title":
                ok = ok and bool(value.strip())
            if field in ("add_dep", "remove_dep"):
                ok = ok and b in self.tasks
            if field == "add_dep":
                ok = ok and not reaches(self.edges, b, k)
        unchanged = (
            t is not None
            and {
                "title": lambda: " ".join(value.split()) == t.title,
                "criteria": lambda: value == t.criteria,
                "note": lambda: False,
                "add_dep": lambda: b in self.edges[k],
                "remove_dep": lambda: b not in self.edges[k],
                "label": lambda: value in t.labels,
                "unlabel": lambda: value not in t.labels,
                "priority": lambda: value == t.priority,
            }[field]()
        )
        done, edited = self._attempt(
            "edit_task",
            lambda: self.acting.edit_task(key, actor=actor, expected_version=version, **arguments),
            ok=ok,
            actor=actor,
            events=not unchanged,
        )
        if done:
            assert bool(edited.changed) != unchanged, (field, edited.changed)
            self.may_change = {k} if edited.changed else set()
            if field == "add_dep":
                self.edges[k].add(b)
                self.relinked.add(k)
            if field == "remove_dep":
                self.edges[k].discard(b)
                self.relinked.add(k)

    @rule(
        who=bosses,
        pick=picks,
        priority=st.sampled_from((0, 1, 2, 5, 3, 4)),
        seen=seen_versions,
        via=vias,
    )
    def set_priority(self, who: str, pick: int, priority: int, seen: str, via: str) -> None:
        self._through(via)
        key = self._key(pick)
        k, actor = key.upper(), self._actor(who, key)
        t, version = self._seen(k, seen)
        ok = (
            0 <= priority <= 4
            and t is not None
            and self.team.human_or_lead(actor)
            and version in (None, t.version)
            and t.status in EDITS["set_priority"]
        )
        done, task = self._attempt(
            "set_priority",
            lambda: self.acting.set_priority(key, priority, actor=actor, expected_version=version),
            ok=ok,
            actor=actor,
        )
        if done:
            self.may_change = {k}
            assert task.priority == priority

    @rule(
        who=bosses,
        scope=st.sampled_from(("board", "agent", "task")),
        agent=anyone,
        pick=picks,
        hard=st.sampled_from((0, 50, None, 200, 400, 800)),
        soft=st.sampled_from((None, 100, None)),
        metric=st.sampled_from(("tokens", "bananas", "tokens", "tokens")),
        via=vias,
    )
    def set_budget(self, who, scope, agent, pick, hard, soft, metric, via) -> None:  # type: ignore[no-untyped-def]
        self._through(via)
        subject = {"board": "", "agent": agent, "task": self._key(pick)}[scope]
        actor = self._actor(who, subject)
        budget = (scope, subject.upper() if scope == "task" else subject)
        ok = (
            metric == "tokens"
            and (hard is not None or soft is not None)
            and self.team.human(actor)  # budgets are a human-only move
            and (scope != "agent" or self.team.on_board(subject))
            and (scope != "task" or subject.upper() in self.tasks)
        )
        spends = ok and hard is not None and self.budgets.used(*budget) >= hard
        done, _ = self._attempt(
            "set_budget",
            lambda: self.acting.set_budget(
                metric, actor=actor, scope=scope, subject=subject, soft=soft, hard=hard
            ),
            ok=ok,
            actor=actor,
        )
        if done:
            self.budgets.hard[budget] = hard
            self._stopped(in_scope(budget, self.tasks) if spends else set())

    @rule(who=humans, mode=st.sampled_from(("token", "named", "maybe")), via=vias)
    def set_agents_mode(self, who: str, mode: str, via: str) -> None:
        """A human switches how the board's agents prove who they are."""
        self._through(via)
        actor = self._actor(who, "")
        ok = mode in ("token", "named") and self.team.human(actor)
        done, board = self._attempt(
            "set_agents_mode",
            lambda: self.acting.set_agents_mode(mode, actor=actor),
            ok=ok,
            actor=actor,
        )
        if done:
            assert board.agents == mode
            self.team = self.replay.team = dataclasses.replace(self.team, named=mode == "named")

    def _stopped(self, keys: set[str]) -> None:
        """The tasks a spent hard budget just stopped are in Needs human with reason budget."""
        self.may_change = keys
        for key in keys:
            t = self.deck.get_task(key)
            assert t.status == "escalated" and t.escalation_reason.startswith("budget:"), t

    # -- time ----------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 30, LEASE_SECONDS, LEASE_SECONDS + 1, 600]), sweep=aims)
    def tick(self, seconds: int, sweep: bool) -> None:
        """Time passes, so leases lapse; then maybe the lease sweep runs."""
        self.clock.advance(seconds)
        if not sweep:
            return
        swept = {k for k, t in self.tasks.items() if lapsed(t, self.clock.now)}
        done, keys = self._attempt(
            "expire_leases", self.deck.expire_leases, ok=True, events=bool(swept)
        )
        assert done and set(keys) == swept
        self.may_change = swept


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated database each example copies (migrating costs ~100 ms a time)."""
    path = tmp_path_factory.mktemp("lifecycle") / "template.db"
    Deck.open(path, create=True).close()
    assert not path.with_name("template.db-wal").exists()
    return path


def test_any_sequence_of_verbs_keeps_the_invariants(template: Path) -> None:
    """Random verbs by random actors never break the store's invariants (see module doc)."""
    OUTCOMES.clear()
    run_state_machine_as_test(
        lambda: LifecycleMachine(template),  # type: ignore[arg-type, return-value]
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            print_blob=True,
            database=None,
        ),
    )
    print(outcomes())


def outcomes() -> str:
    """How often each verb was done and refused in the run, for the long run's report."""
    verbs = sorted({k.split(":")[0] for k in OUTCOMES})
    done = {v: OUTCOMES[f"{v}: done"] for v in verbs}
    refused = {
        v: sum(n for k, n in OUTCOMES.items() if k.startswith(f"{v}: refused")) for v in verbs
    }
    return "; ".join(f"{v} {done[v]} done/{refused[v]} refused" for v in verbs)

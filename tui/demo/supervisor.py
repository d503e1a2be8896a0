"""The simulated lead agent: posts plans, keeps the backlog fed, and steers the team.

Like the workers it is a generator of turns with its own seeded RNG, and it acts only through
the `Deck` verbs a real supervisor agent may use (plan, assign, set_priority, edit, inbox);
budgets are a human's to set. It files tasks with the story's types and labels, and labels the
tasks its workers tell it they escalated, until a human answers.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agentdeck.core import ConflictError, Deck, InvalidTransitionError, OverBudgetError
from agentdeck.core.models import Task
from agentdeck.tui.demo.stories import PRICES, Spec, Story, fill

_OPEN = ("pending", "in_progress", "review", "escalated", "failed")
WAITING = "waiting-on-human"  # the label the lead keeps on escalated tasks it was told about
MESSAGE = "message"  # the kind of a message one member sends another (`Deck.send`)


@dataclass
class SupervisorHabits:
    """What the lead does besides planning; the demo and the sample history differ."""

    batches: Sequence[Sequence[Spec]] = ()  # plans to post, the first on the first turn
    followups: bool = False  # keep inventing follow-up tasks once the batches run out
    team: Sequence[str] = ()  # workers that are running; others' claimable work is handed back
    team_skills: Sequence[Sequence[str]] = ()  # each running worker's skills (all members if empty)
    backlog_per_worker: float = 1.5  # post more work when fewer ready tasks than this per worker
    refill_below: float | None = None  # or: post more when under this share of tasks is open
    steer_rate: float = 0.3  # chance per turn to re-prioritise or assign something


class Supervisor:
    """The board's lead agent."""

    def __init__(
        self, deck: Deck, story: Story, rng: random.Random, habits: SupervisorHabits
    ) -> None:
        self.deck, self.story, self.rng, self.habits = deck, story, rng, habits
        self.name = story.lead.name
        self.board = story.key
        self.keys = story.ref_keys()  # refs of the history's plans; new plans add theirs
        self.batches = [tuple(b) for b in habits.batches]
        self.plans = 0
        self.skills = [set(s) for s in habits.team_skills] or [set(m.skills) for m in story.members]

    def run(self) -> Iterator[float]:
        """Hand back offline agents' work, post the first plan; then each turn
        keep the backlog fed or steer (re-prioritise, assign an idle agent)."""
        deck = self.deck
        with contextlib.suppress(OverBudgetError):  # stopped: the loop below waits it out
            deck.heartbeat(self.name, board=self.board)
        if self.habits.team:
            self._hand_back(deck.list_tasks(self.board))
        if self.batches:
            self._post(self.batches.pop(0))
        yield self.rng.uniform(3.0, 5.0)
        while True:
            try:
                deck.heartbeat(self.name, board=self.board)
            except OverBudgetError:  # the board's budget is spent: wait for a human to raise it
                yield self.rng.uniform(4.0, 7.0)
                continue
            tasks = deck.list_tasks(self.board)
            if self.habits.team:
                self._hand_back(tasks)
            self._file_waiting(tasks)
            ready = [t for t in tasks if t.column == "ready"]
            if self._hungry(tasks, ready) and self._more_work():
                self._post(self._next_batch())
            elif self.rng.random() < self.habits.steer_rate:
                self._steer(ready)
            yield self.rng.uniform(4.0, 7.0)

    def _file_waiting(self, tasks: Sequence[Task]) -> None:
        """Keep the `waiting-on-human` label true: put it on the tasks workers wrote to say
        they escalated (the lead's inbox), take it off those a human has answered."""
        told = {
            m.task
            for m in self.deck.inbox(self.name, board=self.board)
            if m.kind == MESSAGE and m.task
        }
        for task in tasks:
            has = WAITING in task.labels
            wants = task.status == "escalated" and (has or task.key in told)
            if has == wants:
                continue
            on, off = ([WAITING], []) if wants else ([], [WAITING])
            # A human or worker moved it this instant: the next turn looks again.
            with contextlib.suppress(ConflictError):
                self.deck.edit_task(
                    task.key,
                    actor=self.name,
                    expected_version=task.version,
                    add_labels=on,
                    remove_labels=off,
                )

    def _hungry(self, tasks: Sequence[Task], ready: Sequence[Task]) -> bool:
        """Whether the team is about to run out of work."""
        if self.habits.refill_below is not None:
            unfinished = sum(1 for t in tasks if t.status in _OPEN)
            return unfinished < self.habits.refill_below * len(tasks)
        claimable = [t for t in ready if self._fits(t.required_skills)]
        return len(claimable) < self.habits.backlog_per_worker * len(self.skills)

    def _fits(self, skills: Sequence[str]) -> bool:
        """Whether some running worker has all of these skills."""
        return any(set(skills) <= have for have in self.skills)

    def _next_batch(self) -> tuple[Spec, ...]:
        """The next plan: a prepared batch, else up to three follow-ups, each a (template,
        area) pair the board does not hold yet, so the lead never plans a task twice."""
        if self.batches:
            return self.batches.pop(0)
        have = self._titles()
        fresh = [
            self.story.followup(spec, area)
            for spec in self.story.followups
            for area in self.story.areas
            if fill(spec.title, area=area) not in have
        ]
        doable = [f for f in fresh if self._fits(f.skills)] or fresh
        return tuple(self.rng.sample(doable, k=min(3, len(doable))))

    def _more_work(self) -> bool:
        if self.batches or not self.habits.followups:
            return bool(self.batches)
        have = self._titles()
        return any(
            fill(spec.title, area=area) not in have
            for spec in self.story.followups
            for area in self.story.areas
        )

    def _titles(self) -> set[str]:
        """Every task title on the board, finished and cancelled ones too."""
        return {t.title for t in self.deck.list_tasks(self.board, include_cancelled=True)}

    def _post(self, batch: Sequence[Spec]) -> None:
        """Post a plan of the tasks the board does not hold yet (a rerun, or a lead that plans
        again, finds some there: their refs resolve to the existing keys); dependencies on
        finished or earlier work resolve to existing keys."""
        existing = {
            t.title: t.key for t in self.deck.list_tasks(self.board, include_cancelled=True)
        }
        self.keys.update(
            {spec.ref: existing[spec.title] for spec in batch if spec.title in existing}
        )
        batch = [spec for spec in batch if spec.title not in existing]
        if not batch:
            return
        self.plans += 1
        entries = [spec.to_plan(self.keys) for spec in batch]
        created = self.deck.plan(entries, actor=self.name, board=self.board)
        self.keys.update({spec.ref: task.key for spec, task in zip(batch, created, strict=True)})
        tokens_in, tokens_out = self.rng.randint(12_000, 60_000), self.rng.randint(2_000, 9_000)
        price_in, price_out = PRICES.get(self.story.lead.model, (15.0, 75.0))
        self.deck.record_usage(
            None,
            actor=self.name,
            board=self.board,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6),
            model=self.story.lead.model,
        )

    def _hand_back(self, tasks: Sequence[Task]) -> None:
        """Unassign claimable work held by agents that are not running, so the team can take it."""
        team = set(self.habits.team)
        for task in tasks:
            if (
                task.assignee
                and task.assignee not in team
                and task.status in ("pending", "in_progress")
                and task.assignee in {m.name for m in self.story.members}
            ):
                # If it moved meanwhile the edit is refused; the next turn looks again.
                with contextlib.suppress(ConflictError, InvalidTransitionError):
                    self.deck.assign(task.key, None, actor=self.name, expected_version=task.version)

    def _steer(self, ready: Sequence[Task]) -> None:
        """Re-prioritise an old ready task, or give one to an idle agent whose skills fit."""
        if not ready:
            return
        task = self.rng.choice(sorted(ready, key=lambda t: t.key))
        try:
            if task.priority >= 2 and self.rng.random() < 0.5:
                self.deck.set_priority(task.key, 1, actor=self.name, expected_version=task.version)
                return
            idle = [
                a
                for a in self.deck.list_agents(self.board)
                if a.kind == "agent"
                and a.state == "idle"
                and a.name != self.name
                and (not self.habits.team or a.name in self.habits.team)
                and set(task.required_skills) <= set(a.skills)
            ]
            if idle and task.assignee is None:
                who = self.rng.choice(sorted(a.name for a in idle))
                self.deck.assign(task.key, who, actor=self.name, expected_version=task.version)
        except (ConflictError, InvalidTransitionError):
            pass

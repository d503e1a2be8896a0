"""A simulated human teammate: reviews submitted work (commenting on it first), answers
escalations, reopens failures.

In the interactive demo it waits `patience` turns before touching anything, so the person at
the keyboard gets the first chance to approve, reject or answer; whatever they do first wins
(the teammate's stale edit is refused and skipped).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agentdeck.core import ConflictError, Deck, InvalidTransitionError, NotFoundError
from agentdeck.core.models import Task
from agentdeck.tui.demo.stories import ANY_ANSWER, BUDGET_ANSWER, GENERIC_REOPEN, Story


@dataclass
class ReviewerHabits:
    humans: Sequence[str] = ()
    patience: int = 2  # turns a task waits in Needs human before the teammate acts
    reject_every: int = 3  # every third review goes back with notes (never the same task twice)
    reopen_rate: float = 0.6
    keep_failed: tuple[str, ...] = ()  # failed tasks nobody reopens (abandoned approaches)
    cancel_key: str = ""  # a task the owner cancels as out of scope
    cancel_turn: int = 0
    turn: tuple[float, float] = (2.0, 4.0)


class Reviewer:
    """Human decisions the workers wait on, taken one per turn."""

    def __init__(
        self, deck: Deck, story: Story, rng: random.Random, habits: ReviewerHabits
    ) -> None:
        self.deck, self.story, self.rng, self.habits = deck, story, rng, habits
        self.board = story.key
        self.humans = list(habits.humans) or [story.reviewer.name]
        self.seen: dict[tuple[str, int], int] = {}
        self.settled: set[tuple[str, int]] = set()
        self.rejected: set[str] = set()
        self.reviews = 0
        self.reopened: set[str] = set()

    def run(self) -> Iterator[float]:
        """One decision per turn: a budget to raise, else the oldest due task, else the cancel."""
        turn = 0
        while True:
            turn += 1
            waiting = self.deck.list_tasks(self.board, status=("review", "escalated", "failed"))
            for task in waiting:
                self.seen.setdefault((task.key, task.version), turn)
            due = [
                t
                for t in waiting
                if (t.key, t.version) not in self.settled
                and turn - self.seen[(t.key, t.version)] >= self.habits.patience
            ]
            if self._raise_exhausted_budget():
                pass  # that was this turn's decision
            elif due:
                self._decide(due[0])
            elif self.habits.cancel_key and turn >= self.habits.cancel_turn:
                self._cancel(self.habits.cancel_key)
            yield self.rng.uniform(*self.habits.turn)

    def _raise_exhausted_budget(self) -> bool:
        """A hard limit stops all claims in its scope; the human raises it by half."""
        for budget in self.deck.budget_status(self.board):
            if budget.level == "over" and budget.hard is not None:
                self.deck.set_budget(
                    budget.metric,
                    actor=self.humans[0],
                    board=self.board,
                    scope=budget.scope,
                    subject=budget.subject,
                    soft=budget.soft,
                    hard=round(max(budget.hard, budget.used) * 1.5, 2),
                )
                return True
        return False

    def _decide(self, task: Task) -> None:
        me = self.rng.choice(self.humans)
        self.settled.add((task.key, task.version))
        rng, deck, story = self.rng, self.deck, self.story
        _, texts = story.texts_for(task.title, task.required_skills, task.criteria)
        try:
            if task.status == "review":
                deck.comment(task.key, texts.review, actor=me)
                self.reviews += 1
                if self.reviews % self.habits.reject_every or task.key in self.rejected:
                    deck.approve(
                        task.key,
                        actor=me,
                        note=rng.choice(story.approvals),
                        expected_version=task.version,
                    )
                else:
                    self.rejected.add(task.key)
                    deck.reject(
                        task.key,
                        actor=me,
                        notes=texts.redo,
                        expected_version=task.version,
                    )
            elif task.status == "escalated":
                reason = task.escalation_reason
                if reason.startswith("budget:"):
                    answer = BUDGET_ANSWER
                else:
                    answer = texts.reply if reason == texts.ask and texts.reply else ANY_ANSWER
                deck.answer(task.key, actor=me, text=answer, expected_version=task.version)
            elif (
                task.key not in self.reopened
                and task.key not in self.habits.keep_failed
                and rng.random() < self.habits.reopen_rate
            ):
                self.reopened.add(task.key)
                deck.reopen(
                    task.key,
                    actor=me,
                    notes=texts.reopen or GENERIC_REOPEN,
                    expected_version=task.version,
                )
        except (ConflictError, InvalidTransitionError):
            pass  # someone else (the person at the keyboard) decided first

    def _cancel(self, key: str) -> None:
        """Cancel the out-of-scope task once it exists and nobody has started it."""
        try:
            task = self.deck.get_task(key)
        except NotFoundError:
            return  # not planned yet
        self.habits.cancel_key = ""
        if task.status == "pending":
            with contextlib.suppress(ConflictError, InvalidTransitionError):
                self.deck.cancel(
                    key,
                    actor=self.humans[0],
                    reason=self.story.cancel_reason,
                    expected_version=task.version,
                )

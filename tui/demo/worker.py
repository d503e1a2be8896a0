"""A simulated specialised agent: claims work by skill and does it through `Deck`, turn by turn.

Its life is a generator: each `yield` ends one turn and says how long (in demo seconds, before
`--speed` scaling) to wait before the next. Every choice comes from the agent's own seeded RNG,
so the same seed and the same board state give the same story.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from agentdeck.core import (
    ConflictError,
    Deck,
    InvalidTransitionError,
    LeaseExpiredError,
    NotFoundError,
    OverBudgetError,
    ValidationError,
)
from agentdeck.core.models import Message, SearchHit, Task
from agentdeck.tui.demo.stories import PRICES, Member, Story, Texts, fill
from agentdeck.tui.demo.telemetry import Telemetry

# The chance that a turn of work logs the task's next own line rather than a routine tool run.
_OWN_LINE = 0.65
_NOTE_KINDS = ("rejection", "reopen", "answer", "assignment")


def lead_message(key: str, question: str) -> str:
    """What a worker tells the lead when it escalates a task: which, and the question."""
    return f"{key} waits on a human: {question}"


@dataclass
class WorkerHabits:
    """How a worker behaves: rates of trouble, and pauses. The demo and the samples differ."""

    fail_rate: float = 0.08
    escalate_rate: float = 0.12
    review_rate: float = 0.15  # submit for review even when approval is not required
    skip_verification_rate: float = 0.1
    first_incident: str = ""  # "escalate" or "fail": what goes wrong on the first task
    crash_delay: float | None = None  # demo seconds to go silent on the story's crash task
    rest: tuple[float, float] = (0.5, 1.5)  # pause after finishing a task
    work_turns: tuple[int, int] = (3, 6)  # turns of actual work per attempt
    failing: tuple[str, ...] = ()  # refs whose first attempt fails its verification
    gpu: bool = False  # record GPU seconds (benchmarks, embeddings)


class Lost(Exception):
    """The task was taken away (reassigned, cancelled, lease swept) while the agent worked."""


class Worker:
    """One specialised agent working a board through the public `Deck` verbs."""

    def __init__(
        self, deck: Deck, story: Story, member: Member, rng: random.Random, habits: WorkerHabits
    ) -> None:
        self.deck, self.story, self.member, self.rng, self.habits = (
            deck,
            story,
            member,
            rng,
            habits,
        )
        self.name = member.name
        self.board = story.key
        self.attempts: dict[str, int] = {}
        self.troubled: set[str] = set()  # tasks that already failed or escalated once
        self.said: set[object] = set()  # what this attempt already logged, so lines do not repeat
        # With `demo --otel`: the agent's runtime measures its usage (see `telemetry`).
        self.telemetry = Telemetry.from_environment(session=f"{story.key}-{member.name}")

    def run(self) -> Iterator[float]:
        """The agent's life: resume what it held, then claim, work, finish, repeat."""
        try:
            held = self.deck.heartbeat(self.name, board=self.board)
        except OverBudgetError:
            held = []  # a spent hard budget stopped its work: nothing to resume
        for key in held:
            yield from self._attempt(self.deck.get_task(key), (), (), resumed=True)
        idle = paused = False
        while True:
            try:
                claim = self.deck.claim(self.name, board=self.board)
            except OverBudgetError:
                if not paused:
                    self.deck.doing(self.name, "Paused: the budget is exhausted", board=self.board)
                    paused = True
                yield self.rng.uniform(5.0, 8.0)
                continue
            paused = False
            if claim is None:
                if not idle:
                    self.deck.doing(self.name, "Waiting for a ready task", board=self.board)
                    idle = True
                yield self.rng.uniform(2.5, 4.0)
                continue
            idle = False
            yield from self._attempt(claim.task, claim.inbox, claim.similar)
            yield self.rng.uniform(*self.habits.rest)

    def _attempt(
        self,
        task: Task,
        inbox: Sequence[Message],
        similar: Sequence[SearchHit],
        *,
        resumed: bool = False,
    ) -> Iterator[float]:
        # If a human reassigned or cancelled the task, its lease lapsed, or a spent hard budget
        # stopped it (it waits in Needs human), move on.
        with contextlib.suppress(
            Lost, LeaseExpiredError, InvalidTransitionError, ConflictError, OverBudgetError
        ):
            yield from self._work(task, inbox, similar, resumed)

    def _turn(self) -> float:
        return self.rng.uniform(1.5, 4.0)

    def _hold(self, key: str) -> None:
        """Heartbeat, and stop if the task is no longer ours."""
        if key not in self.deck.heartbeat(self.name, board=self.board):
            raise Lost(key)

    def texts_of(self, task: Task) -> tuple[str, Texts]:
        return self.story.texts_for(task.title, task.required_skills, task.criteria)

    def _work(
        self, task: Task, inbox: Sequence[Message], similar: Sequence[SearchHit], resumed: bool
    ) -> Iterator[float]:
        key, rng, deck, me = task.key, self.rng, self.deck, self.name
        attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        ref, texts = self.texts_of(task)
        craft = self.story.craft_for(task.required_skills)
        first_time = (
            attempt == 1 and key not in self.troubled and not resumed and not self._troubled(key)
        )
        self.said.clear()

        deck.doing(me, f"Reading {key} and its success criteria", key=key)
        notes = [m for m in inbox if m.task == key and m.kind in _NOTE_KINDS]
        if resumed:
            deck.log(key, f"Resuming {key} after a restart; re-reading my notes", actor=me)
        elif notes:
            for note in notes:
                deck.log(
                    key,
                    f"Acting on {note.kind} from {note.sender}: {note.text}",
                    actor=me,
                    kind="decision",
                )
        else:
            deck.log(key, f"Picked up {key}: {task.title}", actor=me)
        if similar:
            hit = similar[0]
            deck.log(
                key,
                f"Similar past work: {hit.key} ({hit.title}); reusing its approach",
                actor=me,
                kind="observation",
            )
        yield self._turn()

        if first_time:
            for kind, text in texts.first:
                self._hold(key)
                self._write(key, kind, text)
                yield self._turn()
            if texts.note and texts.note not in task.criteria:
                self._note(key, texts.note)  # what reading up turned up, in the same turn
            if ref and ref == self.story.crash_ref and self.habits.crash_delay:
                # The agent's process "dies": no more heartbeats, so the lease runs out.
                self.troubled.add(key)
                yield self.habits.crash_delay
                return

        turns = rng.randint(*self.habits.work_turns)
        reason = self._escalation(ref, texts, first_time)
        escalate_at = rng.randint(1, turns - 1) if reason else -1
        doing = (*texts.doing, *craft.doing)
        # The task's own story, told in order across turns and attempts (whoever holds it):
        # it goes on where the log left off, and an attempt that will ask a human tells only
        # what comes before the question.
        told = self._told(key, texts)
        lines = list(texts.log[told:])
        if reason:
            lines = lines[: max(0, texts.before_ask - told)]
        for i in range(turns):
            self._hold(key)
            deck.doing(me, self._pick(doing), key=key)
            if lines and (rng.random() < _OWN_LINE or not texts.tool_calls):
                self._write(key, *lines.pop(0))
            else:
                self._write(key, "tool_call", "\n".join(self._pick(texts.tool_calls)))
            if i % 2 == 1:
                self._usage(key)
            if i == escalate_at:
                self.troubled.add(key)
                deck.escalate(key, actor=me, reason=reason)
                self._tell_lead(key, reason)
                return
            yield self._turn()

        if rng.random() < 0.85:
            self._hold(key)
            self._checkpoint(key, texts)
            yield self._turn()

        self._hold(key)
        deck.doing(me, "Verifying against the success criteria", key=key)
        if self._fails(ref, first_time):
            self.troubled.add(key)
            deck.log(key, texts.miss, actor=me, kind="verification", data={"passed": False})
            yield self._turn()
            self._hold(key)
            deck.fail(key, actor=me, reason=texts.fail)
            return
        if rng.random() >= self.habits.skip_verification_rate:
            deck.log(key, texts.check, actor=me, kind="verification", data={"passed": True})
        yield self._turn()

        self._hold(key)
        self._usage(key)
        if task.requires_approval or rng.random() < self.habits.review_rate:
            deck.comment(key, texts.comment, actor=me)
            deck.submit(key, actor=me, result=texts.result)
        else:
            deck.complete(key, actor=me, result=texts.result)

    def _note(self, key: str, note: str) -> None:
        """Add what the work turned up under the task's criteria: an edit its holder may make
        (a criteria note, never a rewrite), with the version it just read."""
        version = self.deck.get_task(key).version
        # Someone (a human at the console) edited or moved it in between: the note waits.
        with contextlib.suppress(ConflictError):
            self.deck.edit_task(key, actor=self.name, expected_version=version, criteria_note=note)

    def _tell_lead(self, key: str, question: str) -> None:
        """Message the board's lead that the task now waits on a human, and on what."""
        with contextlib.suppress(NotFoundError, ValidationError):  # a board with no lead
            self.deck.send(
                "lead", lead_message(key, question), actor=self.name, board=self.board, task=key
            )

    def _troubled(self, key: str) -> bool:
        """Whether the task already escalated or failed, under any holder (this process may be
        new, or another agent had it): its question is not asked twice, nor its check failed."""
        moves = self.deck.task_events(key, kinds=["status"], limit=500)
        return any(e.data.get("verb") in ("escalate", "fail") for e in moves)

    def _told(self, key: str, texts: Texts) -> int:
        """How many of the task's own log lines its log already holds, by anyone."""
        own = {f"$ {t}" if k == "tool_call" else t for k, t in texts.log}
        logged = self.deck.task_events(key, kinds=["log"], limit=500)
        return sum(1 for e in logged if e.text in own)

    def _write(self, key: str, kind: str, text: str) -> None:
        """Log one line; a tool call ("command\noutput") is shown as a shell run."""
        data: dict[str, Any] | None = None
        if kind == "tool_call":
            command = text.splitlines()[0]
            data = {
                "tool": "bash",
                "command": command,
                "exit_code": 0,
                "duration_ms": self.rng.randint(80, 90_000),
            }
            text = f"$ {text}"
        self.deck.log(key, text, actor=self.name, kind=kind, data=data)

    def _escalation(self, ref: str, texts: Texts, first_time: bool) -> str:
        """The question this attempt will escalate with, or "" if it will not. Only a task
        whose story has a question for a human ever escalates, and only with that question."""
        if not first_time or not texts.ask or ref in self.habits.failing:
            return ""
        if texts.always_ask:
            return texts.ask
        if self.habits.first_incident == "escalate":
            self.habits.first_incident = ""
            return texts.ask
        if self.habits.first_incident or self.rng.random() >= self.habits.escalate_rate:
            return ""
        return texts.ask

    def _fails(self, ref: str, first_time: bool) -> bool:
        if not first_time:
            return False
        if ref and ref in self.habits.failing:
            return True
        if self.habits.first_incident == "fail":
            self.habits.first_incident = ""
            return True
        return self.rng.random() < self.habits.fail_rate

    def _pick(self, pool: Sequence[Any]) -> Any:
        """A random item this attempt has not used yet (any item once all are used)."""
        fresh = [item for item in pool if item not in self.said]
        item = self.rng.choice(fresh or list(pool))
        self.said.add(item)
        return item

    def _usage(self, key: str) -> None:
        rng, model = self.rng, self.member.model
        tokens_in, tokens_out = rng.randint(4_000, 48_000), rng.randint(500, 6_000)
        price_in, price_out = PRICES.get(model, (3.0, 15.0))
        cost = round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6)
        if self.telemetry is not None:
            # Its runtime exports what it spent; the agent itself owns up to less, as agents
            # do, and the report shows both with the gap (what counts is the larger).
            self.telemetry.export(model, tokens_in, tokens_out, cost)
            share = rng.uniform(0.6, 1.0)
            tokens_in, tokens_out = int(tokens_in * share), int(tokens_out * share)
            cost = round(cost * share, 6)
        self.deck.record_usage(
            key,
            actor=self.name,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost,
            cpu_seconds=round(rng.uniform(2.0, 120.0), 1),
            gpu_seconds=round(rng.uniform(300.0, 2400.0), 1) if self.habits.gpu else 0.0,
            model=model,
        )

    def _checkpoint(self, key: str, texts: Texts) -> None:
        rng = self.rng
        sha = f"{rng.getrandbits(160):040x}"
        files = sorted(rng.sample(texts.files, k=min(len(texts.files), rng.randint(1, 3))))
        message = fill(rng.choice(texts.commits), key=key)
        self.deck.checkpoint(key, actor=self.name, sha=sha, message=message, files=files)
        self.deck.log(key, f"Committed {sha[:7]}: {message}", actor=self.name)

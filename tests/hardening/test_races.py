"""Humans and agents racing on the same task: one wins, the other gets a one-line refusal, and the
task and its event log say exactly what the winner did (the loser's change is absent, no event lost).

Two real OS processes (spawned interpreters, each with its own `Deck`) on a real SQLite file, and on
a fresh schema of a real PostgreSQL server when AGENTDECK_TEST_PG is set. Each round both processes
wait on a shared barrier, then call their verb on the same task at once. One run per backend plays
every race below over its own tasks; each test checks one kind of race.

What a loser gets, by backend (all `DeckError`s with exit code 2):
- SQLite serialises writers, so the loser runs after the winner and sees the moved task: a human
  with the version it saw gets `ConflictError` ("changed since you saw it"); a human without one,
  or an agent, gets the lifecycle refusal (`InvalidTransitionError` "cannot cancel X: it is done",
  `LeaseExpiredError` "cannot complete X: it is pending, not held by w0").
- PostgreSQL runs both at once under READ COMMITTED: the loser may have read the task before the
  winner committed; then its guarded UPDATE finds a newer version and it gets `ConflictError`
  ("changed while complete was being applied"), or its row lock waits and it sees the new status.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck
from agentdeck.core.models import Event
from tests.backends import BACKENDS, database_url
from tests.concurrency import harness
from tests.hardening import race_workers

ROUNDS = 50
HUMAN, OTHER_HUMAN = harness.HUMAN, "kim"
HOLDER, TAKER, THIRD = "w0", "w1", "w2"
# Each race plays over its own block of ROUNDS tasks: RUN-1..50 reassign vs complete, and so on.
RACES = ("reassign_vs_complete", "two_humans_assign", "cancel_vs_complete", "cancel_vs_log")
CONFLICT = ("ConflictError", "LeaseExpiredError", "InvalidTransitionError")


@dataclass(frozen=True)
class Round:
    """One task raced over: what each side did and got, and what the database holds now."""

    key: str
    version: int  # the task's version when both sides started
    a: dict[str, Any]  # side A's op and outcome
    b: dict[str, Any]
    status: str
    assignee: str | None
    result: str
    final_version: int
    events: list[Event]  # the task's events written by the race, oldest first

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(e.kind, e.subkind) for e in self.events]


def _op(verb: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"verb": verb, "args": list(args), "kwargs": kwargs}


def _ops(race: str, key: str, version: int, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Side A's and side B's verb for round `n` of `race` on task `key` at `version`."""
    complete = _op("complete", key, actor=HOLDER, result=f"finished {key}", verified_by="race")
    if race == "reassign_vs_complete":
        # Half the humans carry the version they saw (the TUI does); half do not (a bare CLI call).
        seen = version if n % 2 == 0 else None
        return _op("assign", key, TAKER, actor=HUMAN, expected_version=seen), complete
    if race == "two_humans_assign":
        return (
            _op("assign", key, TAKER, actor=HUMAN, expected_version=version),
            _op("assign", key, THIRD, actor=OTHER_HUMAN, expected_version=version),
        )
    cancel = _op("cancel", key, actor=HUMAN, reason=f"drop {key}")
    if race == "cancel_vs_complete":
        return cancel, complete
    assert race == "cancel_vs_log"
    return cancel, _op("log", key, f"step of {key}", actor=HOLDER)


def _setup(db: str) -> tuple[dict[str, int], list[str]]:
    """The board, its people, and each race's tasks in their starting state; returns versions
    and the two humans' tokens."""
    boss = harness.make_board(db, agents=3, tasks=ROUNDS * len(RACES))
    versions = {}
    with Deck.open(db) as deck:
        deck.present(boss)
        deck.add_agent(OTHER_HUMAN, actor=HUMAN, kind="human")
        tokens = [boss, deck.issued_token(OTHER_HUMAN, harness.BOARD) or ""]
        for r, race in enumerate(RACES):
            for n in range(ROUNDS):
                key = f"{harness.BOARD}-{r * ROUNDS + n + 1}"
                # Two humans race over pending tasks (a plain edit) and held ones (a move) alike.
                if race != "two_humans_assign" or n % 2 == 0:
                    claim = deck.claim(HOLDER, key=key)
                    assert claim is not None
                versions[key] = deck.get_task(key).version
    return versions, tokens


@pytest.fixture(scope="module", params=BACKENDS)
def raced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Round]]:
    """Every race played once on the backend: its rounds, by race name."""
    tmp = tmp_path_factory.mktemp(f"races-{request.param}")
    db = database_url(str(request.param), tmp)
    versions, tokens = _setup(db)
    with Deck.open(db) as deck:
        cursor = deck.max_event_id()
    plan = {
        race: [
            (key, versions[key], *_ops(race, key, versions[key], n))
            for n in range(ROUNDS)
            for key in [f"{harness.BOARD}-{r * ROUNDS + n + 1}"]
        ]
        for r, race in enumerate(RACES)
    }
    flat = [step for race in RACES for step in plan[race]]
    barrier = harness.SPAWN.Barrier(2)
    outs = [tmp / "side-a.json", tmp / "side-b.json"]
    procs = [
        harness.SPAWN.Process(
            target=race_workers.race_side,
            args=(db, [step[2 + side] for step in flat], barrier, str(outs[side]), tokens),
        )
        for side in (0, 1)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=180)
    assert [p.exitcode for p in procs] == [0, 0]
    got_a, got_b = (_outcomes(out) for out in outs)
    crashes = [o for o in got_a + got_b if o.get("error") == "crash"]
    assert not crashes, crashes[:3]

    with Deck.open(db) as deck:
        by_task: dict[str | None, list[Event]] = defaultdict(list)
        for event in harness.all_events(deck):
            if event.id > cursor:
                by_task[event.task].append(event)
        rounds: dict[str, list[Round]] = {}
        i = 0
        for race in RACES:
            rounds[race] = []
            for key, version, op_a, op_b in plan[race]:
                task = deck.get_task(key)
                rounds[race].append(
                    Round(
                        key,
                        version,
                        {**op_a, **got_a[i]},
                        {**op_b, **got_b[i]},
                        task.status,
                        task.assignee,
                        task.result,
                        task.version,
                        by_task.pop(key, []),
                    )
                )
                i += 1
    assert not by_task, f"events on tasks no race touched: {dict(by_task)}"
    print(f"\n{request.param}: " + "; ".join(f"{r} {_tally(rounds[r])}" for r in RACES))
    return rounds


def _outcomes(path: Path) -> list[dict[str, Any]]:
    """The outcomes a side reported as its last act."""
    assert path.exists(), f"{path.name} missing: the side died before reporting"
    return list(json.loads(path.read_text()))


def _tally(rounds: list[Round]) -> str:
    """Who won how often, and what the losers got: printed with -s, for the report."""
    wins = Counter("both" if r.a["ok"] and r.b["ok"] else "A" if r.a["ok"] else "B" for r in rounds)
    errors = Counter(o["error"] for r in rounds for o in (r.a, r.b) if not o["ok"])
    return f"wins {dict(wins)} losers {dict(errors)}"


def _one_winner(r: Round) -> tuple[dict[str, Any], dict[str, Any]]:
    """(winner, loser) of a round where exactly one side may succeed; the loser's error is a
    one-line refusal with exit code 2 that names the task."""
    assert r.a["ok"] != r.b["ok"], f"{r.key}: expected exactly one winner, got {r.a} / {r.b}"
    winner, loser = (r.a, r.b) if r.a["ok"] else (r.b, r.a)
    assert loser["error"] in CONFLICT, f"{r.key}: {loser}"
    assert r.key in loser["message"] and "\n" not in loser["message"], loser
    assert winner["version"] == r.final_version == r.version + 1, r
    return winner, loser


def test_reassign_racing_completion_one_wins_nothing_overwritten(
    raced: dict[str, list[Round]],
) -> None:
    """A human reassigns a held task while its agent completes it: either the task is done by
    w0 with its result and no assignment was written, or it is pending for w1 and the completion
    was refused; never a done task reassigned, never a completion after the reassignment."""
    for r in raced["reassign_vs_complete"]:
        winner, loser = _one_winner(r)
        if winner is r.a:  # the human's reassignment won
            assert (r.status, r.assignee, r.result) == ("pending", TAKER, ""), r
            assert r.kinds == [("assigned", "pending"), ("message", "assignment")], r
            assert r.events[0].data["from_agent"] == HOLDER
            assert loser["error"] in ("LeaseExpiredError", "ConflictError"), loser
        else:  # the agent's completion won
            assert (r.status, r.assignee, r.result) == ("done", HOLDER, f"finished {r.key}"), r
            assert r.kinds == [("status", "done")], r
            if r.a["kwargs"]["expected_version"] is not None:
                assert loser["error"] == "ConflictError", loser
                assert "changed" in loser["message"], loser
            else:  # no version to compare: refused because a done task cannot be assigned
                assert loser["error"] in ("InvalidTransitionError", "ConflictError"), loser
                if loser["error"] == "InvalidTransitionError":
                    assert f"cannot assign {r.key}: it is done" in loser["message"], loser


def test_two_humans_assigning_with_the_same_version_one_wins(
    raced: dict[str, list[Round]],
) -> None:
    """Two humans who saw the same version assign the same task to different agents: one
    assignment lands, the other is a conflict; the task goes to the winner's choice only."""
    for r in raced["two_humans_assign"]:
        winner, loser = _one_winner(r)
        assert loser["error"] == "ConflictError", loser
        target = winner["args"][1]
        assert r.assignee == target, r
        assert r.status == "pending", r
        held = (int(r.key.rsplit("-", 1)[1]) - 1) % 2 == 0  # see _setup: even rounds held
        assert r.kinds == [("assigned", "pending" if held else ""), ("message", "assignment")], r
        assert r.events[0].data["to_agent"] == target, r
        assert r.events[0].actor == winner["kwargs"]["actor"], r


def test_cancel_racing_completion_one_wins(raced: dict[str, list[Round]]) -> None:
    """A human cancels a held task while its agent completes it: done with the agent's result,
    or cancelled with the human's reason, never both."""
    for r in raced["cancel_vs_complete"]:
        winner, loser = _one_winner(r)
        if winner is r.a:
            assert (r.status, r.result) == ("cancelled", ""), r
            assert [(e.kind, e.subkind, e.text) for e in r.events] == [
                ("status", "cancelled", f"drop {r.key}")
            ], r
            if loser["error"] == "InvalidTransitionError":
                assert f"cannot complete {r.key}: it is cancelled" in loser["message"], loser
        else:
            assert (r.status, r.result) == ("done", f"finished {r.key}"), r
            assert r.kinds == [("status", "done")], r
            if loser["error"] == "InvalidTransitionError":
                assert f"cannot cancel {r.key}: it is done" in loser["message"], loser


def test_cancel_racing_a_log_entry_never_logs_after_the_cancel(
    raced: dict[str, list[Round]],
) -> None:
    """A human cancels a held task while its agent logs a step: the cancel always lands; the
    log entry either lands before it in the event order or is refused, never after it."""
    for r in raced["cancel_vs_log"]:
        assert r.a["ok"] and r.status == "cancelled", r
        cancel = [e for e in r.events if e.kind == "status"]
        assert [(e.subkind, e.actor) for e in cancel] == [("cancelled", HUMAN)], r
        logs = [e for e in r.events if e.kind == "log"]
        if r.b["ok"]:
            assert [e.id for e in logs] == [r.b["event_id"]], r
            assert logs[0].id < cancel[0].id, f"{r.key}: log entry accepted after the cancel"
        else:
            assert r.b["error"] in CONFLICT and logs == [], r
            assert r.key in r.b["message"], r.b

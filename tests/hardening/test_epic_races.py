"""Epics under races between real OS processes, on a real SQLite file and a real PostgreSQL
schema: an epic is never claimed while it has an open subtask, and completes exactly once.

- A human adds a subtask to a ready task while an agent claims it by key, both released by one
  barrier: either the claim came first (the task is held, and its claim event precedes the
  subtask) or the claim is refused as an epic's; never a claim after the subtask was added. On
  PostgreSQL this is the claim's UPDATE re-checking readiness on the row it waited for.
- Two agents complete an epic's last two subtasks at once: both succeed, and the epic is done
  by exactly one system event.
- Eight agents drain a board of epics with claim-next: every subtask is claimed once, no epic
  ever is, and every epic is completed once, by the system.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck, DeckError
from agentdeck.core.lifecycle import SYSTEM_ACTOR
from agentdeck.core.models import Claim
from tests.backends import BACKENDS, database_url
from tests.concurrency import harness, workers
from tests.hardening import race_workers

ROUNDS = 30
HUMAN = harness.HUMAN
WORKERS = 8


def side(
    db: str, ops: list[dict[str, Any]], barrier: threading.Barrier, out: str, token: str
) -> None:
    """One side of the races: each op started together with the rival's through `barrier`;
    what it returned or raised, reported as JSON when all are done."""
    outcomes: list[dict[str, Any]] = []
    with Deck.open(db) as deck:
        deck.present(token)
        deck.get_task(f"{harness.BOARD}-1")  # connect before the first round, not inside it
        for op in ops:
            barrier.wait(race_workers.BARRIER_TIMEOUT_S)
            try:
                outcomes.append(_outcome(deck, op))
            except Exception as exc:  # reported to the parent, which fails the test
                outcomes.append({"ok": False, "error": "crash", "message": repr(exc)})
    tmp = Path(out).with_suffix(".tmp")
    tmp.write_text(json.dumps(outcomes))
    tmp.replace(Path(out))


def _outcome(deck: Deck, op: dict[str, Any]) -> dict[str, Any]:
    """As `race_workers._outcome`, and for a claim, the key it took."""
    if op["verb"] != "claim":
        return race_workers._outcome(deck, op)
    try:
        claim = deck.claim(*op["args"], **op["kwargs"])
    except DeckError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    assert isinstance(claim, Claim)
    return {"ok": True, "key": claim.task.key}


def _op(verb: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"verb": verb, "args": list(args), "kwargs": kwargs}


def _play(db: str, tmp: Path, token: str, steps: list[tuple[dict[str, Any], ...]]) -> list[Any]:
    """Play `steps` (one op per side each) with two processes; their outcomes, paired."""
    barrier = harness.SPAWN.Barrier(2)
    outs = [tmp / "side-a.json", tmp / "side-b.json"]
    procs = [
        harness.SPAWN.Process(
            target=side, args=(db, [step[i] for step in steps], barrier, str(outs[i]), token)
        )
        for i in (0, 1)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=180)  # a hang guard, not a timing
    assert [p.exitcode for p in procs] == [0, 0]
    a, b = (json.loads(out.read_text()) for out in outs)
    crashes = [o for o in a + b if o.get("error") == "crash"]
    assert not crashes, crashes[:3]
    return list(zip(a, b, strict=True))


@pytest.mark.parametrize("backend", BACKENDS)
def test_adding_a_subtask_racing_a_claim_by_key_never_lets_an_epic_be_claimed(
    backend: str, tmp_path: Path
) -> None:
    db = database_url(backend, tmp_path)
    token = harness.make_board(db, agents=1, tasks=ROUNDS)
    keys = [f"{harness.BOARD}-{n + 1}" for n in range(ROUNDS)]
    steps = [
        (
            _op("add_task", f"part of {key}", actor=HUMAN, board=harness.BOARD, parent=key),
            _op("claim", "w0", key=key),
        )
        for key in keys
    ]
    played = _play(db, tmp_path, token, steps)
    claimed = refused = 0
    with Deck.open(db) as deck:
        events = harness.all_events(deck)
        for key, (added, claim) in zip(keys, played, strict=True):
            assert added["ok"], added  # a subtask may be added under a held task
            t = deck.get_task(key)
            made = [e for e in events if e.kind == "created" and e.text == f"part of {key}"]
            claims = [e for e in events if e.kind == "claimed" and e.task == key]
            assert len(made) == 1
            if claim["ok"]:
                claimed += 1
                assert (t.status, t.assignee) == ("in_progress", "w0")
                assert [c.id for c in claims] and claims[0].id < made[0].id, key
            else:
                refused += 1
                assert claim["error"] == "InvalidTransitionError", claim
                assert f"cannot claim {key}: it is an epic" in claim["message"]
                assert (t.status, t.column, claims) == ("pending", "blocked", [])
            assert (t.subtasks_done, t.subtasks_total) == (0, 1)
    print(f"\n{backend}: claimed first {claimed}, refused as an epic {refused}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_last_two_subtasks_finishing_at_once_complete_the_epic_once(
    backend: str, tmp_path: Path
) -> None:
    db = database_url(backend, tmp_path)
    token = harness.make_board(db, agents=2, tasks=0)
    steps = []
    epics = []
    with Deck.open(db) as deck:
        deck.present(token)
        for n in range(ROUNDS):
            plan = deck.plan(
                [
                    {"ref": "e", "title": f"epic {n}"},
                    {"title": f"left {n}", "parent": "e", "assignee": "w0"},
                    {"title": f"right {n}", "parent": "e", "assignee": "w1"},
                ],
                actor=harness.PLANNER,
                board=harness.BOARD,
            )
            epic, left, right = (t.key for t in plan)
            epics.append(epic)
            for key, agent in ((left, "w0"), (right, "w1")):
                assert deck.claim(agent, key=key) is not None
            steps.append(
                tuple(
                    _op("complete", key, actor=agent, result="ok", verified_by="race")
                    for key, agent in ((left, "w0"), (right, "w1"))
                )
            )
    played = _play(db, tmp_path, token, steps)
    assert all(a["ok"] and b["ok"] for a, b in played), played[:3]
    with Deck.open(db) as deck:
        events = harness.all_events(deck)
        closed = Counter(e.task for e in events if e.data.get("verb") == "epic_done")
        assert closed == dict.fromkeys(epics, 1)
        assert {e.actor for e in events if e.data.get("verb") == "epic_done"} == {SYSTEM_ACTOR}
        assert deck.counts(harness.BOARD).by_column == {"done": 3 * ROUNDS}


def test_eight_agents_draining_a_board_of_epics_never_claim_one(
    db_url: str, tmp_path: Path
) -> None:
    token = harness.make_board(db_url, agents=WORKERS, tasks=0)
    epics, parts = [], []
    with Deck.open(db_url) as deck:
        deck.present(token)
        spec: list[dict[str, Any]] = []
        for n in range(40):
            # The epics are the most urgent tasks: a claim that could take one would.
            spec.append({"ref": f"e{n}", "title": f"epic {n}", "priority": 0})
            spec += [{"title": f"part {n}.{i}", "parent": f"e{n}"} for i in range(4)]
        made = deck.plan(spec, actor=harness.PLANNER, board=harness.BOARD)
        for task, item in zip(made, spec, strict=True):
            (epics if "ref" in item else parts).append(task.key)
    outs = [tmp_path / f"drain-{i}.json" for i in range(WORKERS)]
    procs = [
        harness.SPAWN.Process(
            target=workers.drain, args=(db_url, harness.agent_name(i), str(outs[i]))
        )
        for i in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=300)  # a hang guard, not a timing
    assert [p.exitcode for p in procs] == [0] * WORKERS
    results = [harness.read_result(out) for out in outs]
    assert [r["errors"] for r in results] == [[]] * WORKERS
    claimed = Counter(key for r in results for key in r["claimed"])
    assert sorted(claimed) == sorted(parts) and set(claimed.values()) == {1}
    with Deck.open(db_url) as deck:
        events = harness.all_events(deck)
        assert deck.counts(harness.BOARD).by_column == {"done": len(epics) + len(parts)}
    closed = Counter(e.task for e in events if e.data.get("verb") == "epic_done")
    assert closed == dict.fromkeys(epics, 1)
    assert not [e for e in events if e.kind == "claimed" and e.task in set(epics)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("link", ["dependency", "parent"])
def test_two_edits_closing_a_cycle_at_once_one_is_refused(
    backend: str, link: str, tmp_path: Path
) -> None:
    """A human makes A wait on B (or B a subtask of A) while another edit makes B wait on A
    (or A a subtask of B), both released by one barrier: exactly one edit wins and the other
    is refused as a cycle, so the board never holds a task that waits on itself. On
    PostgreSQL both transactions run at once; each checks the graph under the board's lock."""
    db = database_url(backend, tmp_path)
    token = harness.make_board(db, agents=1, tasks=2 * ROUNDS)
    pairs = [
        (f"{harness.BOARD}-{2 * n + 1}", f"{harness.BOARD}-{2 * n + 2}") for n in range(ROUNDS)
    ]

    def edit(key: str, other: str) -> dict[str, Any]:
        change = {"add_dependencies": [other]} if link == "dependency" else {"parent": other}
        return _op("edit_task", key, actor=HUMAN, expected_version=1, **change)

    played = _play(db, tmp_path, token, [(edit(a, b), edit(b, a)) for a, b in pairs])
    with Deck.open(db) as deck:
        for (a, b), (one, two) in zip(pairs, played, strict=True):
            assert one["ok"] != two["ok"], (a, b, one, two)
            loser = two if one["ok"] else one
            assert loser["error"] == "CycleError", loser
            ta, tb = deck.get_task(a), deck.get_task(b)
            if link == "dependency":
                assert (b in ta.blocked_by) != (a in tb.blocked_by), (ta.blocked_by, tb.blocked_by)
            else:
                assert (ta.parent == b) != (tb.parent == a), (ta.parent, tb.parent)

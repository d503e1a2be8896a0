"""`agentdeck demo --headless`: a simulated team of separate processes works a sample board
through `agentdeck.core.Deck`, and the same seed replays the same story."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from agentdeck.tui.demo.summary import events_after
from tests.demo.helpers import DemoRun, alive

# Seed 1 with 120 turns is long enough for the lead's plan, claims, a review that is rejected,
# approvals, an escalation that is answered, a failure and a budget warning (the run is
# deterministic, so this holds on any machine however loaded).
SEED, TURNS = 1, 120


def test_headless_run_shows_a_team_at_work(run_demo: Callable[..., DemoRun]) -> None:
    """Claims, logs, usage, reviews and escalations come from several agent processes, with
    no errors; the summary says so and the exit code is 0."""
    run = run_demo(seed=SEED, turns=TURNS)
    assert run.code == 0, run.output
    assert "errors: none" in run.output
    assert len(set(run.pids)) == 6  # the lead, 4 workers and a reviewing teammate

    with run.deck() as deck:
        events = list(events_after(deck, run.board_key, run.cursor))
    kinds = Counter(e.kind for e in events)
    for kind in ("plan", "claimed", "log", "usage", "checkpoint", "approval", "budget"):
        assert kinds[kind] > 0, f"no {kind} event in {dict(kinds)}"
    statuses = Counter(e.data.get("verb") for e in events if e.kind == "status")
    assert statuses["escalate"] and statuses["answer"] and statuses["fail"]
    assert {e.subkind for e in events if e.kind == "approval"} == {"approved", "rejected"}
    assert {e.subkind for e in events if e.kind == "log"} >= {"action", "tool_call", "decision"}
    claimers = {e.actor for e in events if e.kind == "claimed"}
    assert len(claimers) >= 3, claimers
    assert {e.actor for e in events if e.kind == "approval"} == {"tom"}
    # The worker acted on the human's answer: its next claim logged the answer as a decision.
    answered = {e.task for e in events if e.kind == "status" and e.data.get("verb") == "answer"}
    assert any(
        e.kind == "log" and e.task in answered and e.text.startswith("Acting on answer")
        for e in events
    )
    assert "claims" in run.output and "escalations" in run.output
    assert all(not alive(pid) for pid in run.pids)


def test_same_seed_same_story(run_demo: Callable[..., DemoRun]) -> None:
    """Two runs with one seed make exactly the same task transitions; another seed does not."""
    first = run_demo(seed=5, turns=80).transitions()
    again = run_demo(seed=5, turns=80).transitions()
    other = run_demo(seed=6, turns=40).transitions()
    assert len(first) > 25
    assert first == again
    assert first[: len(other)] != other

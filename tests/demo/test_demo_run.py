"""`agentdeck demo --headless`: a simulated team of separate processes works a sample board
through `agentdeck.core.Deck`, and the same seed replays the same story."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentdeck.tui.demo.summary import events_after
from tests.demo.helpers import DemoRun, alive

# Seed 3 with 120 turns is long enough for the lead's plan, claims, a review that is rejected,
# approvals, an escalation that is answered, a failure and a budget warning (the run is
# deterministic, so this holds on any machine however loaded).
SEED, TURNS = 3, 120


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


def test_every_member_acts_with_its_own_credential(
    run_demo: Callable[..., DemoRun], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Agents act with their own tokens (AGENTDECK_TOKEN), the human teammate with their
    credential file; nobody by name; and the user's own credential file is never written."""
    run = run_demo(seed=SEED, turns=60)
    assert run.code == 0, run.output
    with run.deck() as deck:
        events = list(events_after(deck, run.board_key, run.cursor))
        kinds = {a.name: a.kind for a in deck.list_agents(run.board_key)}
    # The owner's setup (the budget it sets once the import is done) comes first; the team
    # acts after it.
    setup = max(e.id for e in events if e.actor == "maya")
    proofs = {(e.actor, e.auth) for e in events if e.actor in kinds and e.id > setup}
    assert {name for name, _ in proofs} >= {"atlas", "tom", "iris", "kai"}, proofs
    for name, how in proofs:
        assert how == ("credential file" if kinds[name] == "human" else "token"), (name, how)
    assert "events proved by" in run.output and "named" not in run.output
    config = Path(os.environ["XDG_CONFIG_HOME"])
    assert not (config / "agentdeck").exists()


def test_a_user_agent_token_in_the_environment_does_not_reach_the_team(
    run_demo: Callable[..., DemoRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own AGENTDECK_TOKEN/AGENTDECK_AS are theirs, not the simulated agents'."""
    monkeypatch.setenv("AGENTDECK_TOKEN", "adk_" + "x" * 43)
    monkeypatch.setenv("AGENTDECK_AS", "mallory")
    run = run_demo(seed=SEED, turns=30)
    assert run.code == 0, run.output
    assert "errors: none" in run.output


def test_same_seed_same_story(run_demo: Callable[..., DemoRun]) -> None:
    """Two runs with one seed make exactly the same task transitions; another seed does not."""
    first = run_demo(seed=5, turns=80).transitions()
    again = run_demo(seed=5, turns=80).transitions()
    other = run_demo(seed=6, turns=40).transitions()
    assert len(first) > 25
    assert first == again
    assert first[: len(other)] != other


def test_with_otel_the_agents_usage_is_measured_and_reported(
    run_demo: Callable[..., DemoRun],
) -> None:
    """`demo --otel 0`: the receiver runs beside the demo and each agent exports its usage over
    OTLP as Claude Code does, with its own token, then reports less itself: every usage event
    of a worker has a measured twin on the same task, and the report shows the gap."""
    run = run_demo(seed=SEED, turns=TURNS, otel_port=0)
    assert run.code == 0, run.output
    assert "receiving the agents' OpenTelemetry on http://127.0.0.1:" in run.output
    with run.deck() as deck:
        events = list(events_after(deck, run.board_key, run.cursor))
        usage = [e for e in events if e.kind == "usage"]
        measured = [e for e in usage if e.data.get("source") == "measured"]
        reported = [e for e in usage if e.data.get("source") != "measured"]
        assert measured, "no usage arrived over OTLP"
        assert {e.auth for e in measured} == {"token"}  # each agent by its own credential
        # Every worker's reported usage on a task came with its own measured export.
        workers = {e.actor for e in measured}
        for e in reported:
            if e.actor in workers and e.task is not None:
                assert any(m.task == e.task and m.actor == e.actor for m in measured), e
        sources = deck.usage_by_source(run.board_key)
        assert sources["measured"].tokens > 0

        def tokens(events: list[Any]) -> int:
            return sum(e.data.get("tokens_in", 0) + e.data.get("tokens_out", 0) for e in events)

        # In this run the workers owned up to less than their runtimes measured.
        said = [e for e in reported if e.actor in workers]
        assert 0 < tokens(said) < tokens(measured)
        assert deck.report_summary(run.board_key)["spent"]["gap"]["tasks"] > 0
        assert "### Measured and reported" in deck.report(run.board_key, sections=["budgets"])

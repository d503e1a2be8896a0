"""`agentdeck otel` in its own process, and agents in theirs exporting with the real
OpenTelemetry SDK and its OTLP/HTTP exporters, configured by the README's environment alone,
on both backends.

An export returns once the receiver answered, and it answers 200 only after the usage is
committed: when a client process has exited, what it sent is readable. Nothing here sleeps.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdeck.core import Deck
from tests.conftest import make_web_board
from tests.core.helpers import claim_key

ROOT = Path(__file__).resolve().parents[2]
AGENTDECK = Path(sys.executable).parent / "agentdeck"
ALL = "metrics,traces,logs"


class Server:
    """The receiver's process and the deck the test reads through."""

    def __init__(self, deck: Deck, process: subprocess.Popen[str], endpoint: str) -> None:
        self.deck, self.process, self.endpoint = deck, process, endpoint

    def agent(
        self,
        token: str | None,
        signals: str = ALL,
        rounds: int = 1,
        protocol: str = "protobuf",
        temporality: str = "delta",
        *extra: str,
        resource: str = "",
    ) -> subprocess.Popen[str]:
        """Start an agent process exporting `rounds` rounds of usage on `signals`."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.endpoint
        if token is not None:
            env["OTEL_EXPORTER_OTLP_HEADERS"] = f"Authorization=Bearer%20{token}"
        if resource:
            env["OTEL_RESOURCE_ATTRIBUTES"] = resource
        command = [sys.executable, "-m", "tests.otel.agent_client"]
        return subprocess.Popen(
            [*command, signals, str(rounds), protocol, temporality, *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def finished(agent: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = agent.communicate(timeout=120)
    return agent.returncode, out


@pytest.fixture
def server(db_url: str) -> Iterator[Server]:
    with Deck.open(db_url, create=True) as deck:
        make_web_board(deck)
        process = subprocess.Popen(
            [str(AGENTDECK), "otel", "--port", "0", "--db", db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            found = re.search(r"http://127\.0\.0\.1:\d+", first)
            assert found, (first, process.stderr.read() if process.poll() is not None else "")
            yield Server(deck, process, found.group(0))
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "stopped after" in out and "Traceback" not in err


def token(deck: Deck, name: str) -> str:
    minted = deck.issued_token(name, "WEB")
    assert minted is not None
    return minted


def holding(deck: Deck, agent: str, title: str) -> str:
    key = deck.add_task(title, actor="ann").key
    claim_key(deck, key, agent)
    return key


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
@pytest.mark.parametrize("temporality", ["cumulative", "delta"])
def test_every_signal_lands_on_the_task_the_agent_holds(
    server: Server, protocol: str, temporality: str
) -> None:
    deck = server.deck
    key = holding(deck, "gen", "Build the login form")
    other = holding(deck, "fe", "Style the page")
    pin = f"agentdeck.task={key}" if protocol == "json" else ""
    code, out = finished(
        server.agent(token(deck, "gen"), ALL, 3, protocol, temporality, resource=pin)
    )
    assert code == 0, out
    measured = deck.usage_by_source(task=key)["measured"]
    # 3 rounds of 100 in, 10 out, $0.01 on each of the three signals (each its own session)
    assert (measured.tokens_in, measured.tokens_out) == (900, 90)
    assert measured.cost_usd == pytest.approx(0.06)  # spans carry no cost
    assert deck.usage_totals(task=other).tokens == 0
    assert deck.refusals() == {}


def test_a_replayed_batch_is_not_counted_twice(server: Server) -> None:
    deck = server.deck
    key = holding(deck, "gen", "Build the login form")
    for temporality in ("cumulative", "delta"):
        agent = server.agent(token(deck, "gen"), ALL, 2, "protobuf", temporality, "--replay")
        code, out = finished(agent)
        assert code == 0, out
    # two processes x 2 rounds x 3 signals x 100: every batch was sent twice, counted once
    assert deck.usage_totals(task=key).tokens_in == 1200


def test_a_bad_or_missing_credential_is_refused_and_counted(server: Server) -> None:
    deck = server.deck
    holding(deck, "gen", "Build the login form")
    revoked = token(deck, "fe")
    deck.revoke_credential("fe", actor="ann", board="WEB")
    for credential in (None, "adk_" + "Z" * 43, revoked, "not-a-token"):
        code, out = finished(server.agent(credential, ALL, 1))
        assert code == 3, out  # every export failed, none crashed
        assert out.count("FAILURE") == 3 and "401" in out and "Traceback" not in out
    assert deck.refusals() == {"credential": 4 * 3}
    assert deck.usage_totals(board="WEB").tokens == 0


def test_eight_exporting_agents_at_once_all_land_exactly(server: Server) -> None:
    deck = server.deck
    tasks = {}
    for n in range(8):
        name = f"worker{n}"
        deck.add_agent(name, actor="ann")
        tasks[name] = holding(deck, name, f"Task {n}")
    agents = [
        server.agent(
            token(deck, name),
            ALL,
            10,
            "json" if n % 2 else "protobuf",
            "cumulative" if n % 4 < 2 else "delta",
        )
        for n, name in enumerate(tasks)
    ]
    results = [finished(agent) for agent in agents]
    assert [code for code, _ in results] == [0] * 8, results
    for key in tasks.values():
        totals = deck.usage_totals(task=key)
        assert (totals.tokens_in, totals.tokens_out) == (3000, 300)
    assert deck.usage_totals(board="WEB").tokens == 8 * 3300

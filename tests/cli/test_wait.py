"""`claim --wait` and `inbox --wait` as real OS processes, woken by other processes' commits.

Each waiter says on stderr when its first try found nothing and it starts waiting; only then
does the test commit, so what the waiter answers came through the change feed (or the lease
timer), not through its first try. Waits are long (two minutes): a waiter that is never woken
fails the test by timing out, not by being slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from agentdeck.core import Deck
from tests.cli.conftest import AGENTDECK

LONG = "120"


@dataclass
class Waiter:
    """A running `agentdeck ... --wait` process that has said it is waiting."""

    proc: subprocess.Popen[str]

    def result(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=90)
        return self.proc.returncode, out, err

    def claimed(self) -> str:
        """The key it claimed (it must have exited 0)."""
        code, out, err = self.result()
        assert code == 0, err
        return str(json.loads(out)["task"]["key"])


@pytest.fixture
def waiting(web: str) -> Iterator[Callable[..., Waiter]]:
    """Start `agentdeck ARGS... --json` and return once it says it is waiting."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Waiter:
        proc = subprocess.Popen(
            [str(AGENTDECK), *args, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        started.append(proc)
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "waiting up to" in line, (line, proc.communicate(timeout=60))
        return Waiter(proc)

    yield start
    for proc in started:  # a test that failed midway leaves no waiter behind
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def hold_web_1(deck: Deck) -> None:
    claim = deck.claim("coder")
    assert claim is not None and claim.task.key == "WEB-1"


MAKES_READY: dict[str, Callable[[Deck], Any]] = {
    "its blocker is done": lambda d: d.complete("WEB-1", actor="coder", verified_by="pytest"),
    "a human adds it": lambda d: d.add_task("Style the page", actor="ann", board="WEB"),
    "a human assigns it": lambda d: (
        d.add_task("Style the page", actor="ann", board="WEB", assignee="coder"),
        d.assign("WEB-3", "designer", actor="ann"),
    ),
}


@pytest.mark.parametrize("change", list(MAKES_READY.values()), ids=list(MAKES_READY))
def test_a_waiting_claim_takes_the_task_another_process_makes_ready(
    deck: Deck, waiting: Callable[..., Waiter], change: Callable[[Deck], Any]
) -> None:
    hold_web_1(deck)  # WEB-2 waits on it; designer (css) may not take WEB-1 (python) anyway
    waiter = waiting("claim", "--as", "designer", "--wait", LONG)
    change(deck)
    key = waiter.claimed()
    task = deck.get_task(key)
    assert key in ("WEB-2", "WEB-3")
    assert (task.status, task.assignee) == ("in_progress", "designer")


def test_a_waiting_claim_takes_a_task_whose_lease_lapsed_with_no_commit(
    deck: Deck, waiting: Callable[..., Waiter]
) -> None:
    deck.create_board(
        "FAST", "Short leases", actor="ann", lead="planner", lease_seconds=5, agents="named"
    )
    deck.add_agent("w1", actor="ann", board="FAST")
    deck.add_agent("w2", actor="ann", board="FAST")
    key = deck.add_task("Only task", actor="ann", board="FAST").key
    assert deck.claim("w1", board="FAST") is not None
    waiter = waiting("claim", "--as", "w2", "--board", "FAST", "--wait", LONG)
    assert waiter.claimed() == key  # nobody committed: the lease timer woke it
    task = deck.get_task(key)
    assert (task.status, task.assignee) == ("in_progress", "w2")
    kinds = [(e.actor, e.kind) for e in deck.task_events(key)][-2:]
    assert kinds == [("agentdeck", "lease_expired"), ("w2", "claimed")]


def test_a_task_the_agent_may_not_claim_does_not_end_its_wait(
    deck: Deck, waiting: Callable[..., Waiter]
) -> None:
    hold_web_1(deck)
    waiter = waiting("claim", "--as", "designer", "--wait", LONG)
    deck.add_task("Tune the query", actor="ann", board="WEB", skills=["python"])  # WEB-3
    deck.add_task("Fix the API", actor="ann", board="WEB", assignee="coder")  # WEB-4
    deck.log("WEB-1", "busy elsewhere", actor="coder")
    deck.add_task("Style the page", actor="ann", board="WEB", skills=["css"])  # WEB-5
    assert waiter.claimed() == "WEB-5"
    assert [deck.get_task(k).status for k in ("WEB-3", "WEB-4")] == ["pending", "pending"]


def test_two_agents_wait_one_task_comes_one_gets_it_the_other_waits_on(
    deck: Deck, waiting: Callable[..., Waiter]
) -> None:
    hold_web_1(deck)
    deck.add_agent("other", actor="ann", board="WEB", skills=["css"])
    first = waiting("claim", "--as", "designer", "--wait", LONG)
    second = waiting("claim", "--as", "other", "--wait", LONG)
    deck.add_task("Style the page", actor="ann", board="WEB")  # WEB-3
    winner, loser = (first, second) if _exited_first(first, second) else (second, first)
    assert winner.claimed() == "WEB-3"
    assert loser.proc.poll() is None  # still waiting
    deck.add_task("Style the footer", actor="ann", board="WEB")  # WEB-4
    assert loser.claimed() == "WEB-4"
    holders = {deck.get_task(k).assignee for k in ("WEB-3", "WEB-4")}
    assert holders == {"designer", "other"}


def _exited_first(a: Waiter, b: Waiter) -> bool:
    """Which of two waiters exits first (True: `a`), by blocking on their output pipes."""
    import selectors

    with selectors.DefaultSelector() as pick:
        assert a.proc.stdout is not None and b.proc.stdout is not None
        pick.register(a.proc.stdout, selectors.EVENT_READ, a)
        pick.register(b.proc.stdout, selectors.EVENT_READ, b)
        [(ready, _)] = pick.select(timeout=90)[:1]
        return ready.data is a


def test_a_claim_with_nothing_coming_times_out_with_exit_3(deck: Deck, agentdeck) -> None:
    hold_web_1(deck)
    ran = agentdeck("claim", "--as", "designer", "--wait", "0.5", "--json")
    assert ran.returncode == 3, ran.stderr
    assert json.loads(ran.stdout) == {
        "error": {"message": "nothing ready for designer to claim", "exit_code": 3}
    }
    assert "waiting up to 0.5 s" in ran.stderr


def test_a_claim_over_a_hard_budget_is_refused_at_once_not_waited_on(deck: Deck, agentdeck) -> None:
    deck.set_budget("tokens", actor="ann", board="WEB", scope="agent", subject="coder", hard=10)
    deck.record_usage(None, actor="coder", board="WEB", tokens_in=20)
    ran = agentdeck("claim", "--as", "coder", "--wait", "3600", timeout=60)
    assert ran.returncode == 4, ran.stderr
    assert "waiting" not in ran.stderr and "cannot claim" in ran.stderr


def test_ctrl_c_ends_a_wait_with_exit_130_and_no_traceback(
    deck: Deck, waiting: Callable[..., Waiter]
) -> None:
    hold_web_1(deck)
    waiter = waiting("claim", "--as", "designer", "--wait", LONG)
    waiter.proc.send_signal(signal.SIGINT)
    code, out, err = waiter.result()
    assert (code, out, err) == (130, "", "")
    assert deck.get_task("WEB-2").status == "pending"


def test_inbox_wait_is_woken_by_a_human_rejecting_with_notes(
    deck: Deck, waiting: Callable[..., Waiter]
) -> None:
    hold_web_1(deck)
    deck.submit("WEB-1", actor="coder", result="done", verified_by="pytest")
    deck.inbox("coder")  # nothing unread before the wait
    waiter = waiting("inbox", "--as", "coder", "--wait", LONG)
    deck.reject("WEB-1", actor="ann", notes="the tests fail on Python 3.11")
    code, out, err = waiter.result()
    assert code == 0, err
    [message] = json.loads(out)["messages"]
    assert message["kind"] == "rejection" and "Python 3.11" in message["text"]
    assert deck.inbox("coder", mark_read=False) == []  # read by the waiter


def test_inbox_wait_with_nothing_coming_answers_empty(deck: Deck, agentdeck) -> None:
    deck.inbox("coder")
    ran = agentdeck("inbox", "--as", "coder", "--wait", "0.5", "--json")
    assert (ran.returncode, json.loads(ran.stdout)) == (0, {"messages": [], "next_cursor": None})

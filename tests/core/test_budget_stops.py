"""Hard budgets stop the work in their scope, and usage is recorded only by whoever may spend it.

Written as an adversary would: an agent pushing another's task over its budget, an agent
carrying on after the stop with every verb it has, the lead trying to lift a stop, and stops
of one scope that must leave the rest of the board working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentdeck.core import (
    Deck,
    InvalidTransitionError,
    OverBudgetError,
    PermissionDeniedError,
)
from tests.core.helpers import Refused, claim_key, events_after, kinds, task_in

SHA = "0123456789abcdef0123456789abcdef01234567"


def held(deck: Deck, agent: str, title: str) -> str:
    """A new task on WEB that `agent` holds."""
    key = deck.add_task(title, actor="ann").key
    claim_key(deck, key, agent)
    return key


# -- who may record usage ---------------------------------------------------------------------


def test_an_agent_cannot_record_usage_on_another_agents_task(web: Deck, refused: Refused) -> None:
    """fe tries to push gen's task over its budget: refused, nothing counted, gen keeps working."""
    key = task_in(web, "in_progress")
    web.set_budget("tokens", actor="ann", scope="task", subject=key, hard=100)
    web.set_budget("tokens", actor="ann", hard=1000)
    with refused(
        PermissionDeniedError,
        f"fe cannot record usage on {key}: only its assignee (gen), the board's lead or a human may",
    ):
        web.record_usage(key, actor="fe", tokens_in=5000)
    assert {s.used for s in web.budget_status()} == {0}
    assert web.get_task(key).status == "in_progress"
    assert web.claim("be") is None  # nothing ready, and no budget refusal either


def test_usage_on_a_task_nobody_holds_is_for_the_lead_and_humans(
    web: Deck, refused: Refused
) -> None:
    key = web.add_task("Unclaimed", actor="ann").key
    with refused(PermissionDeniedError, "its assignee (it has none), the board's lead"):
        web.record_usage(key, actor="gen", tokens_in=1)
    web.record_usage(key, actor="sup", tokens_in=10)  # the lead
    web.record_usage(key, actor="bob", tokens_in=20)  # a human
    assert web.usage_totals(task=key).tokens_in == 30


def test_the_holder_records_usage_on_its_task_even_after_it_stopped(web: Deck) -> None:
    """Spend that happened is never lost: the in-flight usage of a stopped task still lands."""
    key = task_in(web, "in_progress")
    web.set_budget("tokens", actor="ann", scope="task", subject=key, hard=100)
    web.record_usage(key, actor="gen", tokens_in=150)
    assert web.get_task(key).status == "escalated"
    web.record_usage(key, actor="gen", tokens_in=70)
    [status] = web.budget_status(scope="task")
    assert (status.used, status.level) == (220, "over")


def test_an_agent_records_its_own_usage_on_the_board(web: Deck) -> None:
    web.record_usage(None, actor="fe", tokens_in=40)
    assert web.usage_totals(agent="fe").tokens_in == 40


# -- a board stop --------------------------------------------------------------------------------


@pytest.fixture
def stopped(web: Deck) -> dict[str, str]:
    """WEB with a 1,000-token hard board budget that gen just spent: gen, fe and be each held a
    task in progress; one task was ready."""
    keys = {a: held(web, a, f"Work of {a}") for a in ("gen", "fe", "be")}
    keys["ready"] = web.add_task("Next", actor="ann").key
    web.set_budget("tokens", actor="ann", hard=1000)
    web.record_usage(keys["gen"], actor="gen", tokens_in=900)
    assert {web.get_task(k).status for k in keys.values()} == {"in_progress", "pending"}
    web.record_usage(keys["gen"], actor="gen", tokens_in=300)
    return keys


def test_crossing_a_hard_board_budget_stops_every_task_in_progress(web: Deck) -> None:
    keys = {a: held(web, a, f"Work of {a}") for a in ("gen", "fe", "be")}
    web.set_budget("tokens", actor="ann", soft=500, hard=1000)
    cursor = web.max_event_id()
    crossed = web.record_usage(keys["gen"], actor="gen", tokens_in=1200)
    assert [(c.level, c.used) for c in crossed] == [("over", 1200)]
    events = events_after(web, cursor)
    assert kinds(events) == [
        ("budget", "hard"),
        ("usage", ""),
        *[("status", "escalated"), ("message", "budget")] * 3,
    ]
    stops = [e for e in events if e.kind == "status"]
    assert [e.task for e in stops] == list(keys.values())
    for e in stops:
        assert e.actor == "agentdeck"
        assert e.data["reason"] == "budget" and e.data["scope"] == "board"
    for agent, key in keys.items():
        task = web.get_task(key)
        assert (task.column, task.assignee) == ("needs_human", agent)
        assert task.escalation_reason == (
            "budget: the board tokens budget is exhausted (1,200 of 1,000 tokens)"
        )
        [message] = web.inbox(agent)
        assert (message.kind, message.task, message.sender) == ("budget", key, "agentdeck")
        assert "waits in Needs human until a human raises the limit" in message.text
        assert web.get_agent(agent).current_task is None


GATED = (
    "claim",
    "claim by key",
    "heartbeat",
    "doing on the task",
    "submit",
    "complete",
    "checkpoint",
)


def gated_verbs(deck: Deck, agent: str, key: str) -> dict[str, Callable[[], Any]]:
    """Every agent verb on work that a spent hard budget over `key` and `agent` refuses."""
    verbs: dict[str, Callable[[], Any]] = {
        "claim": lambda: deck.claim(agent),
        "claim by key": lambda: deck.claim(agent, key=key),
        "heartbeat": lambda: deck.heartbeat(agent),
        "doing on the task": lambda: deck.doing(agent, "still going", key=key),
        "submit": lambda: deck.submit(key, actor=agent, result="r", verified_by="v"),
        "complete": lambda: deck.complete(key, actor=agent, result="r", verified_by="v"),
        "checkpoint": lambda: deck.checkpoint(key, actor=agent, sha=SHA, message="wip"),
    }
    assert tuple(verbs) == GATED
    return verbs


@pytest.mark.parametrize("verb", GATED)
def test_after_a_board_stop_every_work_verb_exits_4_naming_the_budget(
    web: Deck, stopped: dict[str, str], refused: Refused, verb: str
) -> None:
    """Every agent, not only the one that crossed, gets exit 4 from its next work verb."""
    for agent in ("gen", "fe", "be"):
        call = gated_verbs(web, agent, stopped[agent])[verb]
        with refused(
            OverBudgetError, f"{agent} cannot ", "the board tokens budget is exhausted",
            "(1,200 of 1,000 tokens)", "a human raises the limit",
        ) as info:  # fmt: skip
            call()
        assert info.value.exit_code == 4


def test_after_a_board_stop_log_usage_fail_release_and_escalate_are_not_stopped(
    web: Deck, stopped: dict[str, str]
) -> None:
    """The agent can still say what it did and spent; giving up or asking a human meets only the
    lifecycle (the task is already in Needs human), never the budget."""
    key = stopped["fe"]
    assert web.log(key, "stopping: budget spent", actor="fe").task == key
    web.record_usage(key, actor="fe", tokens_in=50)
    assert web.budget_status()[0].used == 1250
    for verb in ("fail", "release", "escalate"):
        with pytest.raises(InvalidTransitionError, match=f"cannot {verb} {key}: it is escalated"):
            getattr(web, verb)(key, actor="fe", **({"note": "x"} if verb == "release" else {"reason": "x"}))  # fmt: skip
    web.doing("fe", "Paused: the budget is spent")  # no task: the agent's own status line
    assert web.get_agent("fe").active_form == "Paused: the budget is spent"


def test_humans_still_supervise_a_stopped_board(web: Deck, stopped: dict[str, str]) -> None:
    key = stopped["fe"]
    web.answer(key, actor="ann", text="wait for the new budget")
    assert web.get_task(key).status == "pending"
    web.add_task("Planned while stopped", actor="ann")


# -- raising the limit -------------------------------------------------------------------------


def test_only_a_human_lifts_a_stop_and_claims_resume(
    web: Deck, stopped: dict[str, str], refused: Refused
) -> None:
    with refused(PermissionDeniedError, "only a human may set budgets; sup is an agent"):
        web.set_budget("tokens", actor="sup", hard=100_000)  # the lead, an agent
    still = web.set_budget("tokens", actor="ann", hard=1100)  # raised, but still below use
    assert still.level == "over"
    with refused(OverBudgetError, "fe cannot claim", "(1,200 of 1,100 tokens)"):
        web.claim("fe")
    raised = web.set_budget("tokens", actor="ann", hard=5000)
    assert raised.level == "ok"
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == stopped["ready"]
    web.answer(stopped["gen"], actor="ann", text="carry on, the budget is raised")
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == stopped["gen"]
    assert web.heartbeat("gen") == [stopped["gen"]]
    with refused(PermissionDeniedError, "only a human may set budgets"):
        web.set_budget("tokens", actor="sup", hard=6000)  # budgets are a human's, spent or not


def test_setting_a_hard_limit_below_use_stops_the_scope_at_once(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.record_usage(key, actor="gen", tokens_in=500)
    cursor = web.max_event_id()
    assert web.set_budget("tokens", actor="ann", hard=100).level == "over"
    assert kinds(events_after(web, cursor)) == [
        ("budget", "set"),
        ("budget", "hard"),
        ("status", "escalated"),
        ("message", "budget"),
    ]
    assert web.get_task(key).escalation_reason.startswith("budget: the board tokens budget")


# -- scopes ----------------------------------------------------------------------------------------


def test_an_agent_budget_stops_only_that_agents_work(web: Deck, refused: Refused) -> None:
    mine, theirs = held(web, "gen", "Mine"), held(web, "fe", "Theirs")
    web.add_task("Ready", actor="ann")
    web.set_budget("gpu_hours", actor="ann", scope="agent", subject="gen", hard=1)
    web.record_usage(None, actor="gen", gpu_seconds=3600)  # board-level usage, gen's own
    assert web.get_task(mine).status == "escalated"
    assert web.get_task(theirs).status == "in_progress"
    for call in gated_verbs(web, "gen", mine).values():
        with refused(OverBudgetError, "gen cannot", "the agent gen gpu_hours budget is exhausted"):
            call()
    assert web.heartbeat("fe") == [theirs]
    web.doing("fe", "Polishing", key=theirs)
    web.checkpoint(theirs, actor="fe", sha=SHA, message="polish")
    web.complete(theirs, actor="fe", result="done", verified_by="pytest")
    claim = web.claim("fe")
    assert claim is not None and claim.task.title == "Ready"


def test_a_task_budget_stops_only_that_task(web: Deck, refused: Refused) -> None:
    costly, other = held(web, "gen", "Costly"), held(web, "gen", "Other")
    theirs = held(web, "fe", "Theirs")
    web.set_budget("cost_usd", actor="ann", scope="task", subject=costly, hard=1.0)
    web.record_usage(costly, actor="gen", cost_usd=1.5)
    assert [web.get_task(k).status for k in (costly, other, theirs)] == [
        "escalated",
        "in_progress",
        "in_progress",
    ]
    for verb in ("claim by key", "doing on the task", "submit", "complete", "checkpoint"):
        with refused(
            OverBudgetError, f"task {costly} cost_usd budget is exhausted", "1.5 of 1 USD"
        ):
            gated_verbs(web, "gen", costly)[verb]()
    assert web.heartbeat("gen") == [other]  # gen's other task goes on
    web.submit(other, actor="gen", result="r", verified_by="pytest")
    web.complete(theirs, actor="fe", result="r", verified_by="pytest")
    web.answer(costly, actor="ann", text="try a cheaper model")
    assert web.claim("gen") is None  # its own assignment is the spent task: skipped
    web.set_budget("cost_usd", actor="ann", scope="task", subject=costly, hard=3.0)
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == costly

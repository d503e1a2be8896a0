"""What answers cost an agent: on a realistic 500-task board, every tool's default answer
fits in 4,000 tokens and a whole claim → log → usage → done cycle in 1,500, measured on
what the official `mcp` client receives over stdio.

A token is counted as four characters of what a client is sent for a result: the text of
its content blocks plus its structured content as compact JSON (both travel; a host shows
its model one of them). Every result also passes the client's own check against the
tool's declared output schema, and a direct `jsonschema` check.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
from anyio.from_thread import start_blocking_portal
from mcp import types

from agentdeck.core import Deck
from agentdeck.core.mcp import shapes
from agentdeck.core.mcp.tools import TOOLS
from tests.mcp import big_board
from tests.mcp.big_board import AGENT, BOARD, HUMAN
from tests.mcp.conftest import Mcp, connected, server_command, text_of

TOOL_BUDGET = 4_000  # tokens of any tool's default answer
CYCLE_BUDGET = 1_500  # tokens of claim + log + usage + done together


def tokens(result: types.CallToolResult) -> float:
    """What a result costs: the characters of its text blocks and of its structured content
    as compact JSON, over four."""
    text = sum(len(c.text) for c in result.content if isinstance(c, types.TextContent))
    structured = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
    return (text + len(structured)) / 4


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    """A live server acting as `gen` on the 500-task board, built once for the module."""
    home = tmp_path_factory.mktemp("big")
    db, errlog = home / "board.db", home / "server.log"
    with Deck.open(db, create=True) as deck:
        big_board.build(deck)
        with (
            start_blocking_portal() as portal,
            portal.wrap_async_context_manager(connected(server_command(db), errlog)) as session,
        ):
            yield Mcp(portal, session, deck, itertools.count(1))
    assert "Traceback" not in errlog.read_text(), "the server logged a crash"


def checked(big: Mcp, tool: str, **arguments: Any) -> types.CallToolResult:
    """Call `tool`, which must succeed, and check its structured result against the schema
    the server lists for it (the client checked it too, on the way in)."""
    result = big.raw(tool, arguments)
    assert not result.is_error, text_of(result)
    listed = {t.name: t for t in big.portal.call(big.session.list_tools).tools}
    jsonschema.validate(result.structured_content, shapes.strict(listed[tool].output_schema))
    return result


def held_task(big: Mcp) -> str:
    """A ready task with a long description, claimed by `gen` through the deck."""
    ready = big.deck.ready(BOARD, agent=AGENT, limit=200)
    key = max(ready, key=lambda t: len(t.description)).key
    claim = big.deck.claim(AGENT, key=key)
    assert claim is not None and claim.task.key == key
    return key


def _biggest_task_show(big: Mcp) -> types.CallToolResult:
    """task_show of every task in progress or waiting on a human: the largest answer."""
    keys = [
        t.key
        for column in ("in_progress", "needs_human")
        for t in big.deck.list_tasks(BOARD, column=column)
    ]
    return max((checked(big, "task_show", key=k) for k in keys), key=tokens)


PLAN = [
    {
        "ref": f"p{i}",
        "title": f"Step {i} of the rollout plan",
        "description": "Roll out the change behind a flag. " * 60,
        "criteria": "The flag is on for everyone and the error rate did not rise.",
        "skills": ["ops"],
        **({"blocked_by": [f"p{i - 1}"]} if i else {}),
    }
    for i in range(20)
]

# The default call of every tool, its state set up through the deck first.
DEFAULT_CALLS: dict[str, Callable[[Mcp], types.CallToolResult]] = {
    "create_task": lambda big: checked(
        big, "create_task", title="Write the launch post", description="Draft. " * 500
    ),
    "plan": lambda big: checked(big, "plan", tasks=PLAN),
    "ready": lambda big: checked(big, "ready"),
    "claim": lambda big: checked(big, "claim"),
    "heartbeat": lambda big: checked(big, "heartbeat"),
    "doing": lambda big: checked(big, "doing", text="Reading the schema", key=held_task(big)),
    "log": lambda big: checked(big, "log", key=held_task(big), text="ran pytest: 3 failed"),
    "comment": lambda big: checked(big, "comment", key=held_task(big), text="see the runbook"),
    "usage": lambda big: checked(
        big, "usage", key=held_task(big), tokens_in=5000, tokens_out=900, model="m1"
    ),
    "submit": lambda big: checked(big, "submit", key=held_task(big), verified_by="pytest"),
    "done": lambda big: checked(big, "done", key=held_task(big), verified_by="pytest"),
    "fail": lambda big: checked(big, "fail", key=held_task(big), reason="the API is gone"),
    "escalate": lambda big: checked(big, "escalate", key=held_task(big), reason="need access"),
    "release": lambda big: checked(big, "release", key=held_task(big)),
    "inbox": lambda big: checked(big, "inbox"),
    "send": lambda big: checked(big, "send", to="lead", text="Blocked on the schema. " * 200),
    "search": lambda big: checked(big, "search", query="migration"),
    "similar": lambda big: checked(big, "similar", key=held_task(big)),
    "task_show": _biggest_task_show,
    "task_list": lambda big: checked(big, "task_list"),
    "report": lambda big: checked(big, "report"),
    "task_edit": lambda big: checked(
        big,
        "task_edit",
        key=(key := held_task(big)),
        version=big.deck.get_task(key).version,
        add_dependencies=[big.deck.ready(BOARD, limit=1)[0].key],
        criteria_note="found while working: " + "the cache must be warmed first. " * 20,
    ),
}


def test_every_tool_has_a_default_call_here() -> None:
    assert set(DEFAULT_CALLS) == {t.name for t in TOOLS}


@pytest.mark.parametrize("tool", list(DEFAULT_CALLS))
def test_a_default_answer_fits_in_the_tool_budget(big: Mcp, tool: str) -> None:
    result = DEFAULT_CALLS[tool](big)
    assert tokens(result) <= TOOL_BUDGET, f"{tool}: {tokens(result):.0f} tokens"


@pytest.mark.parametrize(
    ("tool", "arguments", "name"),
    [
        ("ready", {"all": True}, "tasks"),
        ("task_list", {}, "tasks"),
        ("task_list", {"column": "done"}, "tasks"),
        ("search", {"query": "migration"}, "hits"),
    ],
)
def test_a_full_page_is_twenty_cards_and_the_next_one_follows(
    big: Mcp, tool: str, arguments: dict[str, Any], name: str
) -> None:
    first = checked(big, tool, **arguments).structured_content
    assert isinstance(first, dict) and len(first[name]) == 20 and first["next_cursor"]
    second = checked(big, tool, cursor=first["next_cursor"], **arguments).structured_content
    assert isinstance(second, dict) and second[name]
    firsts = [i["key"] for i in first[name]]
    assert not set(firsts) & {i["key"] for i in second[name]}


def test_the_report_summary_is_small_and_sections_are_on_request(big: Mcp) -> None:
    summary = checked(big, "report").structured_content
    assert isinstance(summary, dict)
    counted = big.deck.counts(BOARD)
    assert (summary["total"], summary["done"]) == (counted.total, counted.done)
    assert summary["total"] >= 495 and summary["done"] >= 150
    assert len(summary["in_progress"]) == 10 and summary["in_progress_more"] >= 30
    done = summary["finished"]
    assert len(done["recent"]) == 10 and 0 < sum(done["by_agent"].values()) <= counted.done
    # A part of the markdown lists its first 20 tasks and counts the rest, on any board.
    chosen = checked(big, "report", sections=["blocked"]).structured_content
    assert isinstance(chosen, dict) and chosen["markdown"].count("\n- **") == 20
    blocked = counted.by_column["blocked"]
    assert f"## Blocked ({blocked})" in chosen["markdown"]
    assert (
        f"- _and {blocked - 20} more: `agentdeck task list --column blocked`_" in chosen["markdown"]
    )


def test_a_claim_log_usage_done_cycle_fits_in_the_cycle_budget(big: Mcp) -> None:
    """The agent's loop on this board: earlier mail already read, one new assignment (of
    the ready task with the longest description), which the agent claims."""
    big.deck.inbox(AGENT, board=BOARD)
    ready = big.deck.ready(BOARD, limit=500)
    longest = max(ready, key=lambda t: len(t.description) + len(t.criteria))
    assert len(longest.description) >= 2_500
    big.deck.assign(longest.key, AGENT, actor=HUMAN)

    claim = checked(big, "claim", key=longest.key)
    assert isinstance(claim.structured_content, dict)
    task = claim.structured_content["task"]
    assert task["key"] == longest.key and task["description"] == longest.description
    assert task["criteria"] == longest.criteria
    assert [m["kind"] for m in claim.structured_content["inbox"]] == ["assignment"]
    assert len(claim.structured_content["similar"]) == 3
    cycle = [
        claim,
        checked(big, "log", key=longest.key, text="pytest: 41 passed", kind="verification"),
        checked(big, "usage", key=longest.key, tokens_in=48_000, tokens_out=3_100, model="m1"),
        checked(big, "done", key=longest.key, result="shipped behind the flag"),
    ]
    spent = sum(map(tokens, cycle))
    assert spent <= CYCLE_BUDGET, [round(tokens(r)) for r in cycle]
    assert big.deck.get_task(longest.key).status == "done"


def test_the_tool_list_stays_within_its_size(big: Mcp) -> None:
    listed = big.portal.call(big.session.list_tools).tools
    sent = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]
    size = len(json.dumps(sent, separators=(",", ":")))
    # Output schemas are most of it (about 4,000 tokens); this guards against them growing.
    # 7,000 -> 7,500 with task_edit (about 360 tokens) and a task card's type and labels,
    # which every list-shaped result's schema repeats (about 300); 7,500 -> 8,000 with send
    # (about 200) and the report's measured spend and forecast range; 8,000 -> 8,100 with the
    # report's finished work in numbers (about 45: the answers it replaces were unbounded).
    assert size / 4 <= 8_100, f"{size / 4:.0f} tokens"

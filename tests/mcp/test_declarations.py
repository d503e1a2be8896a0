"""What every tool declares, checked against what it does: a title, behaviour hints that
hold (a read-only tool changes nothing; an idempotent one changes nothing more when called
again; the others do), and an output schema that its success and error results both meet,
as the official client checks them and by `jsonschema` directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from mcp import types

from agentdeck.core.mcp import shapes
from agentdeck.core.mcp.tools import TOOLS
from tests.conftest import _dump
from tests.mcp.conftest import AGENT, Mcp, text_of


def listed(mcp: Mcp) -> dict[str, types.Tool]:
    return {t.name: t for t in mcp.portal.call(mcp.session.list_tools).tools}


def held(mcp: Mcp, board: str) -> str:
    """A task on `board` that the server's agent holds."""
    key = mcp.deck.add_task("Write the migration", actor="ann", board=board).key
    claim = mcp.deck.claim(AGENT, key=key)
    assert claim is not None
    return key


def finished(mcp: Mcp, board: str) -> str:
    key = held(mcp, board)
    mcp.deck.complete(key, actor=AGENT, result="migration written", verified_by="pytest")
    return key


def two_ready(mcp: Mcp, board: str) -> dict[str, Any]:
    for title in ("First", "Second"):  # a repeated claim takes the second
        mcp.deck.add_task(title, actor="ann", board=board)
    return {"board": board}


def holding(mcp: Mcp, board: str) -> dict[str, Any]:
    held(mcp, board)
    return {"board": board}


def mail(mcp: Mcp, board: str) -> dict[str, Any]:
    mcp.deck.add_task("Assigned", actor="ann", board=board, assignee=AGENT)
    return {"board": board}


def past_work(mcp: Mcp, board: str) -> dict[str, Any]:
    finished(mcp, board)
    return {"board": board, "query": "migration"}


# For each tool: its set-up on a fresh board, giving the arguments of a call that succeeds.
CALLS: dict[str, Callable[[Mcp, str], dict[str, Any]]] = {
    "create_task": lambda mcp, b: {"board": b, "title": "Write docs"},
    "plan": lambda mcp, b: {"board": b, "tasks": [{"title": "a"}, {"title": "b"}]},
    "ready": lambda mcp, b: {"board": b, "all": True},
    "claim": two_ready,
    "heartbeat": holding,
    "doing": lambda mcp, b: {"key": held(mcp, b), "text": "Reading"},
    "log": lambda mcp, b: {"key": held(mcp, b), "text": "ran pytest"},
    "comment": lambda mcp, b: {"key": held(mcp, b), "text": "the API docs moved"},
    "usage": lambda mcp, b: {"key": held(mcp, b), "tokens_in": 10},
    "submit": lambda mcp, b: {"key": held(mcp, b), "verified_by": "pytest"},
    "done": lambda mcp, b: {"key": held(mcp, b), "verified_by": "pytest"},
    "fail": lambda mcp, b: {"key": held(mcp, b), "reason": "the API is gone"},
    "escalate": lambda mcp, b: {"key": held(mcp, b), "reason": "need access"},
    "release": lambda mcp, b: {"key": held(mcp, b)},
    "inbox": mail,
    "send": lambda mcp, b: {"board": b, "to": "lead", "text": "blocked on the schema"},
    "search": past_work,
    "similar": lambda mcp, b: {"key": mcp.deck.add_task("Migration", actor="ann", board=b).key},
    "task_show": lambda mcp, b: {"key": held(mcp, b), "full": True},
    "task_list": lambda mcp, b: {"board": b},
    "report": lambda mcp, b: {"board": b},
    "task_edit": lambda mcp, b: {
        "key": mcp.deck.add_task("Draft", actor=AGENT, board=b).key,
        "version": 1,
        "title": "Draft the user guide",
        "add_labels": ["docs"],
    },
}


def state(mcp: Mcp) -> tuple[int, Any]:
    return mcp.deck.max_event_id(), _dump(mcp.deck)


def test_every_tool_has_a_call_here() -> None:
    assert set(CALLS) == {t.name for t in TOOLS}


def test_every_tool_has_a_title_hints_and_an_output_schema(mcp: Mcp) -> None:
    for name, tool in listed(mcp).items():
        assert tool.title and tool.annotations is not None, name
        hints = tool.annotations
        assert hints.title == tool.title, name
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint)
        assert hints.open_world_hint is False, name
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", name
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        assert "actor" not in tool.input_schema["properties"], name


@pytest.mark.parametrize("tool", list(CALLS))
def test_the_hints_hold_and_results_meet_the_output_schema(mcp: Mcp, tool: str) -> None:
    declared = listed(mcp)[tool]
    hints = declared.annotations
    assert hints is not None
    board = mcp.new_board()
    call = CALLS[tool](mcp, board)
    before = state(mcp)
    first = mcp.raw(tool, call)  # the client checked it against the output schema
    assert not first.is_error, text_of(first)
    jsonschema.validate(first.structured_content, shapes.strict(declared.output_schema))
    after = state(mcp)
    if hints.read_only_hint:
        assert after == before, f"{tool} is declared read-only but changed the board"
    else:
        assert after != before, f"{tool} is not declared read-only but changed nothing"
    second = mcp.raw(tool, call)
    again = state(mcp)
    if hints.idempotent_hint:
        # Renewing a lease again moves its expiry; nothing else may change.
        assert again[0] == after[0], f"{tool} is declared idempotent but wrote an event"
        if tool != "heartbeat":
            assert again == after, f"{tool} is declared idempotent but changed the board"
    else:
        assert again != after, f"{tool} is not declared idempotent but a repeat changed nothing"
    if second.is_error:  # a repeated move is refused: the refusal meets the schema too
        jsonschema.validate(second.structured_content, declared.output_schema)


@pytest.mark.parametrize("tool", list(CALLS))
def test_an_error_result_meets_the_output_schema(mcp: Mcp, tool: str) -> None:
    declared = listed(mcp)[tool]
    result = mcp.raw(tool, {"actor": "ann"})
    assert result.is_error
    [content] = result.content
    assert isinstance(content, types.TextContent)
    assert result.structured_content == {"error": content.text, "code": 1}
    jsonschema.validate(result.structured_content, shapes.strict(declared.output_schema))


def test_destructive_tools_are_those_that_give_up_held_work(mcp: Mcp) -> None:
    destructive = {
        n for n, t in listed(mcp).items() if t.annotations and t.annotations.destructive_hint
    }
    assert destructive == {"fail", "release"}

"""Fuzzed MCP tool calls: every tool with missing, extra, wrong-type, huge, non-finite and
nested-junk arguments. A call never raises and never reports an internal error: it succeeds,
or it is an error result whose text is one line, and then nothing in the database changed.

Most examples call the tool table in-process (`agentdeck.core.mcp.tools.call`, what the server runs for
each request); a few go through the `mcp` package's own client to a real `agentdeck mcp`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import given
from hypothesis import strategies as st
from mcp import types

from agentdeck.core import Deck
from agentdeck.core.mcp import shapes
from agentdeck.core.mcp.args import MAX_ARGUMENTS, MAX_ITEMS, MAX_TEXT, Outcome
from agentdeck.core.mcp.tools import BY_NAME, TOOLS, call
from agentdeck.core.models import COLUMN_TITLES, LOG_KINDS, STATUSES
from tests.fuzz.conftest import (
    BOARDS,
    KEYS,
    NAMES,
    UNEXPECTED_MCP,
    Sandbox,
    build_board,
    examples,
    snapshot,
)
from tests.fuzz.junk import ANY_SURROGATE, json_values, nested, numbers, texts
from tests.mcp.conftest import connected, server_command

one = st.sampled_from
CALL_TIMEOUT_S = 60  # a hung server fails the test instead of stalling the run
NAMED: dict[str, st.SearchStrategy[Any]] = {
    "key": one(KEYS),
    "parent": one(KEYS),
    "actor": one(NAMES),
    "assignee": one(NAMES),
    "board": one(BOARDS),
    "kind": one((*LOG_KINDS, "rant", "")),
    "status": one((*STATUSES, "open")),
    "column": one((*COLUMN_TITLES, "backlog")),
    "blocked_by": st.lists(one(KEYS), max_size=3),
    "skills": st.lists(one(("python", "backend", "a b", "", "x" * 201)), max_size=3),
    # No wait, and wrong ones: a valid long wait would only stall the run.
    "wait": one((0, 0.0, -1, 301, 1e400, 2**70, 1.5, "10", True)),
}


def by_kind(
    kind: str, text: st.SearchStrategy[str], junk_rate: int, deepest: int
) -> st.SearchStrategy[Any]:
    """Values of the argument's own JSON kind, at and past its limits."""
    if kind in ("text", "name"):
        return text
    if kind in ("int", "num"):
        return numbers()
    if kind == "bool":
        return st.booleans()
    if kind == "names":
        return st.one_of(st.lists(text, max_size=3), st.just(["a"] * (MAX_ITEMS + 1)))
    if kind == "object":
        return st.one_of(
            st.dictionaries(text, json_values(text), max_size=4), st.just(nested(deepest))
        )
    assert kind == "objects", kind
    return st.lists(plan_tasks(text, junk_rate), max_size=4)


@st.composite
def maybe_junk(draw: st.DrawFn, good: Any, text: st.SearchStrategy[str], junk_rate: int) -> Any:
    """A good value, or (`junk_rate` times in ten) a JSON value of any shape."""
    return draw(json_values(text) if draw(st.integers(0, 9)) < junk_rate else good)


@st.composite
def plan_tasks(draw: st.DrawFn, text: st.SearchStrategy[str], junk_rate: int) -> dict[str, Any]:
    """A plan entry: the right fields, some junk, refs that may dangle, repeat or loop."""
    refs = one(("a", "b", "c", "WEB-1", "WEB-99"))
    fields = {
        "title": text,
        "ref": refs,
        "blocked_by": st.lists(refs, max_size=3),
        "parent": refs,
        "priority": numbers(),
        "skills": NAMED["skills"],
        "assignee": one(NAMES),
        "requires_approval": st.booleans(),
        "estimate_hours": numbers(),
        "description": text,
        "colour": text,
    }
    return {
        name: draw(maybe_junk(good, text, junk_rate))
        for name, good in fields.items()
        if name == "title" or draw(st.integers(0, 9)) < (0 if name == "colour" else 3)
    }


@st.composite
def tool_calls(
    draw: st.DrawFn,
    surrogates: st.SearchStrategy[str] | None = ANY_SURROGATE,
    objects_only: bool = False,
    deepest: int = 200,
) -> tuple[str, Any]:
    """A tool name and its arguments: some required ones missing, values of the wrong shape,
    unknown ones added, and (unless `objects_only`: the `mcp` client refuses to send them)
    now and then arguments that are not an object at all. Half the calls have only values of
    the right shape, so they get past the argument checks and into `Deck`."""
    text = texts(forbid="", surrogates=surrogates, long_sizes=(301, 70_000, MAX_TEXT + 1))
    tool = draw(one(TOOLS))
    if not objects_only and draw(st.integers(0, 19)) == 0:
        return tool.name, draw(json_values(text))
    junk_rate = draw(one((0, 0, 1, 3)))
    arguments = {
        arg.name: draw(
            maybe_junk(
                NAMED.get(arg.name, by_kind(arg.kind, text, junk_rate, deepest)), text, junk_rate
            )
        )
        for arg in tool.args
        if draw(st.integers(0, 9)) < (9 if arg.required else 4)
    }
    if junk_rate and draw(st.integers(0, 9)) == 0:
        arguments[draw(text)] = draw(json_values(text))
    return tool.name, arguments


STRICT = {t.name: shapes.strict(t.output_schema) for t in TOOLS}


def check(outcome: Outcome, tool: str, arguments: Any, unchanged: Any) -> None:
    """The rules every tool call keeps; `unchanged()` asserts the database is as it was."""
    json.dumps(outcome.data, allow_nan=False)  # strict JSON, for any client
    if tool in BY_NAME:  # success or error, the result is what the tool declares
        jsonschema.validate(outcome.data, STRICT[tool])
    if not outcome.error:
        return
    text = outcome.text
    assert text.strip() and len(text.splitlines()) == 1, (tool, text)
    assert "Traceback" not in text and UNEXPECTED_MCP not in text, (tool, arguments, text)
    assert outcome.data["error"] == text
    unchanged()


@examples(150)
@given(tool_call=tool_calls(), actor=one(("gen", "gen", "be", "ann", "nobody", None)))
def test_fuzzed_tool_calls_fail_cleanly(
    sandbox: Sandbox, tool_call: tuple[str, Any], actor: str | None
) -> None:
    sandbox.reset()
    name, arguments = tool_call
    with Deck.open(sandbox.db) as deck:
        outcome = call(deck, actor, name, arguments)
    check(outcome, name, arguments, lambda: sandbox.assert_unchanged(f"{name} {arguments!r}"))


@examples(20)
@given(name=texts(forbid="", surrogates=ANY_SURROGATE), arguments=json_values())
def test_unknown_tools_are_one_line_errors(sandbox: Sandbox, name: str, arguments: Any) -> None:
    sandbox.reset()
    with Deck.open(sandbox.db) as deck:
        outcome = call(deck, "gen", name, arguments)
    assert outcome.error or name in {t.name for t in TOOLS}
    check(outcome, name, arguments, lambda: sandbox.assert_unchanged(f"tool {name!r}"))


def test_oversized_arguments_are_refused_before_any_work(sandbox: Sandbox) -> None:
    sandbox.reset()
    with Deck.open(sandbox.db) as deck:
        outcome = call(deck, "gen", "log", {"key": "WEB-3", "text": "x" * (MAX_ARGUMENTS + 1)})
    assert outcome.text.startswith("log: arguments are too large")
    sandbox.assert_unchanged("an oversized call")


class LiveServer:
    """`agentdeck mcp --as gen` on its own copy of the board, driven by the real client."""

    def __init__(self, db: Path, portal: Any, session: Any) -> None:
        self.db, self.portal, self.session = db, portal, session

    def call(self, tool: str, arguments: Any) -> types.CallToolResult:
        result = self.portal.call(self.session.call_tool, tool, arguments, CALL_TIMEOUT_S)
        assert isinstance(result, types.CallToolResult)
        return result


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("mcp-fuzz")
    db, errlog = home / "board.db", home / "server.log"
    with Deck.open(db, create=True) as deck:
        build_board(deck)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connected(server_command(db), errlog)) as session,
    ):
        yield LiveServer(db, portal, session)
    assert "Traceback" not in errlog.read_text(), "the server logged a crash"


@examples(15)
# The `mcp` SDK's server drops a request nested ~196 levels deep without an answer (its JSON
# parser's limit; the client then waits for ever), so the live calls stay below that.
@given(tool_call=tool_calls(surrogates=None, objects_only=True, deepest=150))
def test_fuzzed_calls_through_the_real_client(live: LiveServer, tool_call: tuple[str, Any]) -> None:
    """Successful calls change the board as they go; each failed one must change nothing."""
    name, arguments = tool_call
    before = snapshot(live.db)
    result = live.call(name, arguments)
    [content] = result.content
    assert isinstance(content, types.TextContent)
    outcome = Outcome(result.structured_content or {}, content.text, bool(result.is_error))

    def unchanged() -> None:
        assert snapshot(live.db) == before, f"{name} {arguments!r} failed but wrote"

    check(outcome, name, arguments, unchanged)

"""The MCP tool table without a server: argument checking, the actor rule, crash containment,
and that `mcp` stays an optional import."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from agentdeck.core import Deck
from agentdeck.core.mcp.tools import BY_NAME, TEXT_ENV, TOOLS, call
from tests.core.helpers import task_in
from tests.mcp.conftest import REPO


def test_core_and_the_tool_table_never_import_mcp() -> None:
    probe = "import sys, core, agentdeck.core.mcp.tools; print('mcp' in sys.modules)"
    ran = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert ran.stdout.strip() == "False", ran.stderr


def test_every_required_argument_is_declared_required_in_the_schema() -> None:
    for tool in TOOLS:
        required = {a.name for a in tool.args if a.required}
        assert set(tool.input_schema.get("required", [])) == required, tool.name
        assert set(tool.input_schema["properties"]) == {a.name for a in tool.args}


def test_a_server_acting_for_nobody_says_how_to_start_it(web: Deck) -> None:
    outcome = call(web, None, "heartbeat", {})
    assert outcome.error
    assert (
        outcome.text == "heartbeat: this server acts for nobody; start it with AGENTDECK_TOKEN set"
    )


@pytest.mark.parametrize("tool", [t.name for t in TOOLS])
def test_no_tool_takes_an_actor_and_one_sent_anyway_is_refused(web: Deck, tool: str) -> None:
    """Identity comes from the server's credential: no schema offers `actor`, and a call that
    sends one (as another agent, or as a human) is refused before anything runs."""
    assert "actor" not in BY_NAME[tool].input_schema["properties"]
    before = web.max_event_id()
    for other in ("fe", "ann"):
        outcome = call(web, "gen", tool, {"actor": other})
        assert outcome.error
        assert outcome.text == (
            f"{tool}: there is no actor argument; this server acts only as the holder of "
            "its credential"
        )
    assert web.max_event_id() == before


def test_whole_floats_pass_as_integers_and_fractions_do_not(web: Deck) -> None:
    assert not call(web, "gen", "task_list", {"limit": 2.0}).error
    assert call(web, "gen", "task_list", {"limit": 2.5}).text == (
        "task_list: limit must be an integer, not a number"
    )


def test_a_bug_in_a_deck_call_is_an_error_result_not_a_crash(web: Deck) -> None:
    class Broken:
        def heartbeat(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("disk on fire\nsecond line")

    outcome = call(Broken(), "gen", "heartbeat", {})  # type: ignore[arg-type]
    assert outcome.error
    assert outcome.text == "heartbeat: internal error: RuntimeError: disk on fire second line"


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "arguments",
    [{}, {"tokens_in": None}, {"tokens_in": 0, "cost_usd": 0.0, "model": "m1"}],
    ids=["empty", "tokens_in null", "zeros and a model"],
)
def test_usage_with_nothing_to_record_is_refused(web: Deck, arguments: dict[str, Any]) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    outcome = call(web, "gen", "usage", {"key": key, **arguments})
    assert outcome.error
    assert outcome.text.startswith("nothing to record: give at least one of tokens_in")
    assert web.max_event_id() == cursor and web.usage_totals("WEB").tokens == 0


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("usage", {"cost_usd": NAN}, "usage: cost_usd must be a finite number"),
        ("usage", {"gpu_seconds": -INF}, "usage: gpu_seconds must be a finite number"),
        ("usage", {"cpu_seconds": -2.5}, "cpu_seconds must be a finite number from 0 to 1e9"),
        (
            "log",
            {"text": "x", "data": {"a": NAN}},
            "log: data: JSON numbers must be finite, not nan",
        ),
        ("log", {"text": "x", "data": {"a": [{"b": [INF]}]}}, "log: data: JSON numbers must be"),
        (
            "plan",
            {"tasks": [{"title": "a"}, {"title": "b", "estimate_hours": NAN}]},
            "plan: tasks: JSON numbers must be finite, not nan",
        ),
    ],
    ids=["nan cost", "-inf gpu", "negative cpu", "nan data", "deep inf data", "nan in a plan"],
)
def test_non_finite_and_negative_numbers_are_refused_before_anything_is_written(
    web: Deck, tool: str, arguments: dict[str, Any], fragment: str
) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    tasks = web.list_tasks("WEB")
    if tool != "plan":
        arguments = {"key": key, **arguments}
    outcome = call(web, "gen" if tool != "plan" else "sup", tool, arguments)
    assert outcome.error and fragment in outcome.text, outcome.text
    assert "\n" not in outcome.text
    assert web.max_event_id() == cursor and web.list_tasks("WEB") == tasks
    assert web.usage_totals("WEB").tokens == 0


def test_doing_answers_the_task_it_set(web: Deck) -> None:
    key = task_in(web, "in_progress")
    outcome = call(web, "gen", "doing", {"text": "Writing  tests"})
    assert outcome.data == {"task": key, "doing": "Writing tests"}
    assert web.get_task(key).active_form == "Writing tests"
    assert call(web, "fe", "doing", {"text": "Reading"}).data == {"task": None, "doing": "Reading"}


def test_the_text_is_a_short_rendering_unless_a_host_asks_for_json(
    web: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = task_in(web, "in_progress", description="d" * 3000)
    outcome = call(web, "gen", "task_show", {"key": key})
    assert outcome.text.startswith(f"{key} Build the login form: in_progress; ")
    assert len(outcome.text) < 200 and outcome.data["task"]["description"] == "d" * 3000
    monkeypatch.setenv(TEXT_ENV, "json")
    outcome = call(web, "gen", "task_show", {"key": key})
    assert json.loads(outcome.text) == outcome.data

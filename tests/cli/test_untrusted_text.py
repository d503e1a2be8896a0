"""Agent-written text is shown literally: Rich markup is not interpreted and terminal
escape sequences are made visible, never sent to the terminal."""

from __future__ import annotations

import json

import pytest

from agentdeck.core import Deck

TITLE = "[bold red]urgent[/] \x1b[31mred\x1b[0m \x9b2J \u202eevil"
LOG = "ran \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 [link]"


@pytest.fixture
def hostile(web: str, deck: Deck) -> Deck:
    """WEB-3 (claimed, with a hostile log entry) and WEB-4 (ready) have hostile titles."""
    for _ in range(2):
        deck.add_task(TITLE, actor="planner", description="line one\n\x1b[2Jline two")
    deck.claim("coder", key="WEB-3")
    deck.log("WEB-3", LOG, actor="coder")
    return deck


def assert_literal(stdout: str) -> None:
    for raw in ("\x1b", "\x9b", "\u202e", "\x07"):
        assert raw not in stdout, f"{raw!r} reached the terminal"


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (("task", "list"), ["[bold red]urgent[/] \\x1b[31mred"]),
        (("task", "show", "WEB-3"), ["[bold red]urgent[/]", "\\x1b[2Jline two", "[link]"]),
        (("events",), ["\\x1b]8;;http://evil.example\\x07click", "[bold red]urgent[/]"]),
        (("claim", "WEB-4", "--as", "designer"), ["[bold red]urgent[/]", "\\x1b[2Jline two"]),
    ],
)
def test_text_output_shows_agent_text_literally(cli, hostile: Deck, args, shows) -> None:
    ran = cli(*args, env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert ran.exit_code == 0, ran.stderr
    assert_literal(ran.stdout)
    for fragment in shows:
        assert fragment in ran.stdout


def test_with_colour_only_rich_styles_reach_the_terminal(cli, hostile: Deck) -> None:
    ran = cli("task", "show", "WEB-3", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert "\x1b[" in ran.stdout, "colour was not forced; the test would prove nothing"
    assert "\x1b[31mred" not in ran.stdout and "\x1b]8;;" not in ran.stdout
    assert "\x9b" not in ran.stdout and "\u202e" not in ran.stdout
    assert "\\x1b[31mred" in ran.stdout


def test_plain_lines_escape_too(cli, hostile: Deck) -> None:
    ran = cli("task", "add", "\x1b[5mblink [i]x[/i]", "--as", "planner")
    assert_literal(ran.stdout)
    assert "\\x1b[5mblink [i]x[/i]" in ran.stdout


def test_json_keeps_the_exact_text_but_escaped(cli, hostile: Deck) -> None:
    ran = cli("task", "show", "WEB-3", "--json")
    assert_literal(ran.stdout)
    shown = json.loads(ran.stdout)
    assert shown["task"]["title"] == " ".join(TITLE.split())
    assert LOG in [e["text"] for e in shown["log"]]


def test_error_messages_escape_what_the_user_typed(cli, hostile: Deck) -> None:
    ran = cli("claim", "--as", "x\x1b[31m")
    assert ran.exit_code == 1
    assert "\x1b" not in ran.stderr and "\\x1b" in ran.stderr


def test_the_cli_escapes_with_the_shared_table() -> None:
    """The CLI uses core's one table: the Arabic letter mark and lone surrogates (invalid
    UTF-8 read from somewhere other than argv) are shown as escapes instead of reaching the
    terminal or crashing the write."""
    from agentdeck.tui.cli.output import safe, to_json

    text = "a\u061cb\udcffc\td"
    assert safe(text) == "a\\u061cb\\udcffc\td"
    assert safe(text, one_line=True) == "a\\u061cb\\udcffc\\x09d"
    line = to_json({"title": text})
    assert line == '{"title": "a\\u061cb\\udcffc\\td"}'
    line.encode("utf-8")  # nothing left that cannot be written
    assert json.loads(line) == {"title": text}

"""Fuzzed command lines: every real command with missing, garbage, wrong-type and hostile
arguments and options. Whatever the input, `agentdeck` exits with a documented code; a
failure is one line on stderr (never a traceback, never an "unexpected" error) and leaves the
database exactly as it was.

The commands and their options are read from the Typer app itself, so a new option is fuzzed
the day it is added. Most examples run in-process through the real app; a few run the
installed `agentdeck` script as a real process, where argv bytes that are not UTF-8 arrive the
way a shell sends them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from hypothesis import assume, given
from hypothesis import strategies as st

from agentdeck.core.models import COLUMN_TITLES, LOG_KINDS, STATUSES
from agentdeck.tui.cli.app import build_app
from tests.fuzz.conftest import (
    BOARDS,
    KEYS,
    NAMES,
    Sandbox,
    examples,
    one_line_error,
    run_in_process,
)
from tests.fuzz.junk import number_texts, texts

AGENTDECK = Path(sys.executable).parent / "agentdeck"
EXIT_CODES = {0, 1, 2, 3, 4, 5}
# Commands that start another program (console, MCP server, demo, screenshot): tests/cli
# covers their argument errors; here they would only make the run slow or wait for input.
# `connect` writes into the user's own client configuration (~/.codex): its refusals of bad
# input are in tests/cli/test_connect.py. `otel` and `serve` serve until interrupted, and
# `notify` follows the board and posts to a URL: tests/otel/test_cli.py, tests/cli/test_serve.py
# and tests/cli/test_notify.py cover their argument errors.
SKIP = {"mcp", "demo", "screenshot", "connect", "otel", "serve", "notify"}

# --db values: the real file, missing ones, a directory, a file that is not a database, URLs.
DATABASES = (
    "board.db",
    "nope.db",
    "adir",
    "garbage.db",
    "missing/x.db",
    "nosuch://x",
    "sqlite:///fresh.db",
    "sqlite:///adir",
    "sqlite://",
    "://",
    "~",
    "~nosuchuser.db",
    "",
)
PLANS = (
    "plan.yaml",
    "plan.json",
    "bad.yaml",
    "bad.json",
    "dict.yaml",
    "dangling.yaml",
    "junk.yaml",
    "deep.json",
    "deep.yaml",
    "notutf8.json",
    "empty.json",
    "adir",
    "missing.yaml",
    "-",
)
SOURCES = ("export.json", "claude", "beads", *PLANS[2:])
IMPORT_PATHS = ("claude", "beads.jsonl", "adir", "missing", "garbage.db", "export.json", "")
OUTS = ("out.md", "adir", "missing/out.md", "board.db", "")
DATES = ("2025-06-01", "2025-06-01T12:00:00", "0001-01-01", "9999-12-31 23:59:59", "2025-13-45")
DATA = ('{"tests": 42}', "{}", "[]", "42", '{"a": NaN}', '{"a": 1e999}', "{bad", '"x"', "null")
DATA += ("[" * 5000, '{"a":' * 150 + "1" + "}" * 150)  # nested past the parser's and the limit

one = st.sampled_from
LABELS = ("ui", "UI", "needs-review", "two words", "a,b", "x" * 41, "\u200b", "")
DOMAIN: dict[str, st.SearchStrategy[str]] = {
    "key": one(KEYS),
    "task": one(KEYS),
    "parent": one(KEYS),
    "add_dep": one(KEYS),
    "remove_dep": one(KEYS),
    "label": one(LABELS),
    "unlabel": one(LABELS),
    "task_type": one(("task", "bug", "epic", "Chore", "story", "")),
    "blocked_by": st.lists(one(KEYS), max_size=3).map(",".join),
    "actor": one(NAMES),
    "agent": one(NAMES),
    "assignee": one(NAMES),
    "lead": one(NAMES),
    "supervisor": one(NAMES),
    "name": one((*NAMES, "Website")),
    "subject": one(NAMES + KEYS),
    "skills": st.lists(one(("python", "css", "a b", "", "x" * 70)), max_size=3).map(",".join),
    "board": one(BOARDS),
    "db": one(DATABASES),
    "out": one(OUTS),
    "fmt": one(("native", "beads", "backlog", "slack", "ntfy", "jira", "")),
    "repo": one((".", "adir", "missing", "garbage.db", "")),
    "file": one(PLANS),
    "source": one(SOURCES),
    "path": one(IMPORT_PATHS),
    "due": one(DATES),
    "kind": one((*LOG_KINDS, "Action", "")),
    "metric": one(("tokens", "cost_usd", "cpu_hours", "gpu_hours", "bananas", "")),
    "scope": one(("board", "agent", "task", "planet", "")),
    "status": st.lists(one((*STATUSES, "open", "")), max_size=3).map(",".join),
    "column": one((*COLUMN_TITLES, "backlog", "")),
    "data": one(DATA),
    "sha": one(("0123456789abcdef", "HEAD", "zz", "")),
    "to": one((*NAMES, "lead", "0123456789abcdef", "HEAD", "")),
    "agents": one(("token", "named", "Token", "both", "")),
    "mode": one(("token", "named", "NAMED", "")),
    "token": one(("-", "adk_" + "x" * 43, "", "a" * 300)),
    "cursor": one(("0", "1", "20", "999999", "1000001", "-1", "x", "")),
    "log_cursor": one(("0", "1", "3", "99999999999999999999", "-1", "x", "")),
    "section": one(("done", "blocked", "needs_human", "budgets", "forecast", "Blocked", "")),
    # Waits: none, too short to matter, and wrong ones (a valid long one would only stall the run).
    "wait": one(("0", "0.01", "-1", "3601", "1e400", "nan", "inf", "soon", "")),
    "map_status": one(("hooked=in_progress", "To Do=pending", "x=review", "=done", "nope", "")),
    "tag": one(("master", "feature-x", "missing", "")),
    "finished": one(("all", "recent", "none", "")),
    **{
        n: number_texts()
        for n in (
            *("priority", "level", "limit", "log_limit", "since", "lease_seconds", "otel"),
            *("expected_version", "version", "tokens_in", "tokens_out"),
            *("estimate", "soft", "hard", "cost", "cpu_seconds", "gpu_seconds"),
        )
    },
}
# Options whose value is free text: the hostile text strategies alone cover them.
FREE_TEXT = {
    *("title", "text", "reason", "notes", "note", "result", "verified_by", "description"),
    *("criteria", "criteria_note", "goal", "role", "model", "message", "query"),
    # The old options kept as aliases of the positional free text.
    *("note_alias", "notes_alias", "reason_alias", "result_alias"),
}
FLAGS = {"as_json", "human", "require_verification", "requires_approval", "include_cancelled"}
FLAGS |= {"peek", "follow", "watch", "rotate", "revoke", "full", "no_notify", "force"}
FLAGS |= {"create", "dry_run", "every"}


def leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command a user can run, with the words that name it; groups that do something
    without a subcommand (the root and `board` open the console) count as commands too."""
    if not hasattr(command, "commands"):
        yield path, command
        return
    if getattr(command, "invoke_without_command", False):
        yield path, command
    for name, sub in command.commands.items():
        if name not in SKIP:
            yield from leaves(sub, (*path, name))


ROOT = typer.main.get_command(build_app())
LEAVES = list(leaves(ROOT))


@st.composite
def value_for(draw: st.DrawFn, name: str, long_sizes: tuple[int, ...], junk_rate: int) -> str:
    """A value the option is meant to take (real keys, names, files), or (`junk_rate` times
    in ten, and always for free text) hostile text."""
    domain = DOMAIN.get(name)
    if domain is None or draw(st.integers(0, 9)) < junk_rate:
        return draw(texts(long_sizes=long_sizes))
    return draw(domain)


@st.composite
def param_tokens(
    draw: st.DrawFn, param: Any, long_sizes: tuple[int, ...], junk_rate: int
) -> list[str]:
    """One parameter as tokens: a value, `--opt value`, `--opt=value`, or `--opt` bare."""
    if param.param_type_name == "argument":
        return [draw(value_for(param.name, long_sizes, junk_rate))]
    option = draw(one([*param.opts, *param.secondary_opts]))
    if param.is_flag:
        return [option]
    value = draw(value_for(param.name, long_sizes, junk_rate))
    form = draw(one(("apart", "apart", "apart", "joined", "bare")))
    if form == "joined":
        return [f"{option}={value}" if option.startswith("--") else option + value]
    return [option] if form == "bare" else [option, value]


@st.composite
def command_lines(draw: st.DrawFn, long_sizes: tuple[int, ...] = (301, 70_000)) -> list[str]:
    """A real command with a random selection of its parameters (required ones usually
    present), now and then shuffled, maybe with stray tokens and shared options in front.
    Half the lines use only meaningful values, so they get past parsing into `Deck`."""
    path, command = draw(one(LEAVES))
    junk_rate = draw(one((0, 0, 1, 3)))
    units = [
        draw(param_tokens(p, long_sizes, junk_rate))
        for p in command.params
        if draw(st.integers(0, 9)) < (9 if p.required else 3)
    ]
    if junk_rate and path not in ((), ("board",)):  # stray words, not where they name a command
        units += [[t] for t in draw(st.lists(texts(long_sizes=long_sizes), max_size=2))]
    if draw(st.integers(0, 3)) == 0:
        units = draw(st.permutations(units))
    front = [
        draw(param_tokens(p, long_sizes, junk_rate))
        for p in ROOT.params
        if draw(st.integers(0, 4)) == 0
    ]
    args = [t for unit in [*front, [*path], *units] for t in unit]
    assume(not waits_forever(path, args))
    return args


def waits_forever(path: tuple[str, ...], args: list[str]) -> bool:
    """`events --follow` and `import claude --watch` run until interrupted."""
    if path[:1] == ("events",):
        return any(a.startswith("--follow") or re.match(r"-[^-]*f", a) for a in args)
    return path[:1] == ("import",) and any(a.startswith("--watch") for a in args)


def check(args: list[str], code: int, stdout: str, stderr: str, sandbox: Sandbox) -> None:
    """The rules every call keeps, whatever its arguments."""
    assert code in EXIT_CODES, (args, code, stderr)
    assert "Traceback" not in stdout + stderr, (args, stderr)
    if code == 0:
        return
    one_line_error(stderr)
    if stdout.strip():  # --json: the error as a JSON document too
        assert json.loads(stdout)["error"]["exit_code"] == code, (args, stdout)
    sandbox.assert_unchanged(f"agentdeck {args!r} failed with {code} but wrote")


def test_every_option_has_a_value_strategy() -> None:
    """A new option must be given a thought here, not only the generic junk."""
    names = {p.name for _, command in LEAVES for p in command.params}
    assert names <= set(DOMAIN) | FREE_TEXT | FLAGS, names - set(DOMAIN) - FREE_TEXT - FLAGS


@examples(150)
@given(args=command_lines())
def test_fuzzed_command_lines_fail_cleanly(sandbox: Sandbox, args: list[str]) -> None:
    sandbox.reset()
    check(args, *run_in_process(args), sandbox)


@examples(10)
@given(args=command_lines(long_sizes=(301, 20_000)))
def test_fuzzed_command_lines_in_a_real_process(sandbox: Sandbox, args: list[str]) -> None:
    """The installed script; surrogates in `args` reach it as bytes that are not UTF-8."""
    sandbox.reset()
    ran = subprocess.run(
        [str(AGENTDECK), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": ""},
        timeout=60,
    )
    stdout = ran.stdout.decode("utf-8", "replace")
    stderr = ran.stderr.decode("utf-8", "replace")
    check(args, ran.returncode, stdout, stderr, sandbox)

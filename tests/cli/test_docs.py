"""The CLI's documentation stays true: every command is listed, the JSON field names match
the read models, and every example (in tui/CLI.md and in --help) parses against the real
commands."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest
import typer

from agentdeck.core import models
from agentdeck.tui.cli.app import COMMANDS, build_app

DOC = (Path(__file__).resolve().parents[2] / "tui" / "CLI.md").read_text()
ROOT = typer.main.get_command(build_app())


def parses(example: str) -> None:
    """Parse `agentdeck ...` down to its command, as Click would, without running it."""
    words = shlex.split(example)
    assert words[0] == "agentdeck", example
    command, name, args, parent = ROOT, "agentdeck", words[1:], None
    while True:
        ctx = command.make_context(name, list(args), parent=parent)
        # A group keeps its subcommand name in `_protected_args` and the rest in `args`.
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not isinstance(command, typer.core.TyperGroup) or not rest:
            return
        name, args = rest[0], rest[1:]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"{example}: no command {name!r}"
        command, parent = sub, ctx


def test_every_command_is_documented() -> None:
    documented = set(re.findall(r"^\| `(\w+)", DOC, re.MULTILINE))
    assert set(COMMANDS) <= documented, set(COMMANDS) - documented


def test_documented_fields_match_the_read_models() -> None:
    for name, fields in re.findall(r"^- \*\*(\w+)\*\*: (.+)$", DOC, re.MULTILINE):
        model = getattr(models, name)
        assert fields.split(", ") == [f.name for f in dataclasses.fields(model)], name


@pytest.mark.parametrize("example", re.findall(r"`(agentdeck [^`]+)` \|$", DOC, re.MULTILINE))
def test_documented_examples_parse(example: str) -> None:
    parses(example)


def help_examples() -> list[str]:
    found = []

    def walk(command) -> None:
        for text in (command.help or "", command.epilog or ""):
            found.extend(re.findall(r"^\s*Example: (agentdeck .+)$", text, re.MULTILINE))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(ROOT)
    return sorted(set(found))


@pytest.mark.parametrize("example", help_examples())
def test_help_examples_parse(example: str) -> None:
    parses(example)


def test_there_are_examples_to_check() -> None:
    assert len(help_examples()) >= len(COMMANDS)

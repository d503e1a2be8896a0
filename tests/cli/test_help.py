"""Help shows an example everywhere, and the lazily built app matches the full one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer

from agentdeck.tui.cli.app import COMMANDS, build_app, command_name
from tests.cli.conftest import sqlite_only


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and subcommand of the full app, as argument lists."""
    root = typer.main.get_command(build_app())

    def walk(command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    yield from walk(root, ())


ALL_PATHS = list(command_paths())


def test_every_command_is_reachable() -> None:
    top = {path[0] for path in ALL_PATHS if path}
    assert top == set(COMMANDS)
    for group, subcommands in {
        "board": {"create", "list", "agents"},
        "agent": {"add", "list", "token"},
        "task": {"add", "edit", "list", "show"},
        "budget": {"set", "show"},
    }.items():
        assert {p[1] for p in ALL_PATHS if len(p) == 2 and p[0] == group} == subcommands


@sqlite_only  # help never opens the database
@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "agentdeck")
def test_help_shows_an_example(cli, db: str, path: tuple[str, ...]) -> None:
    """Help ends with an example, and flags (`--json`, `--help`) show as plain flags, with no
    `<bool>` that reads as if they took a value."""
    ran = cli(*path, "--help", env={"COLUMNS": "200"})
    assert ran.exit_code == 0, ran.stderr
    assert "Example: agentdeck" in ran.stdout
    assert "--help" in ran.stdout
    assert "<bool>" not in ran.stdout


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["log", "WEB-1", "x"], "log"),
        (["--as", "coder", "--json", "claim"], "claim"),
        (["--db=x.db", "board", "create", "WEB", "W"], "board"),
        (["--help"], None),
        (["--as", "a", "--verbose", "log"], None),
        (["clam"], None),
        ([], None),
    ],
)
def test_command_name_picks_what_to_build(argv: list[str], name: str | None) -> None:
    assert command_name(argv) == name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_one_command_app_matches_the_full_app(name: str) -> None:
    full = typer.main.get_command(build_app()).commands[name]  # type: ignore[attr-defined]
    alone = typer.main.get_command(build_app(only=name)).commands  # type: ignore[attr-defined]
    assert list(alone) == [name]
    assert [p.name for p in alone[name].params] == [p.name for p in full.params]

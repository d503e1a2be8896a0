"""`agentdeck`: the command line, one command per `Deck` verb, for agents and humans.

With no command it opens the board console. Every command is a thin adapter: parse the
arguments, call one `core.Deck` method, print JSON (`--json`) or text.

Start-up is the price of every agent step, so a call loads only what it runs: `main()`
builds the Typer app with just the invoked command (Typer inspects every registered
function when it builds an app), `core` is imported when a command opens the database,
rich when it prints a table, and textual only when the console opens.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Sequence

import typer

from tui.cli_context import ActorOption, BoardOption, DbOption, JsonOption, before_command
from tui.cli_errors import DeckGroup

SETUP = "Setting up"
TASKS = "Tasks and the library"
WORK = "Agents: doing the work"
SUPERVISE = "Humans: supervising"
REPORTS = "Following, reports, import and export"
PROGRAMS = "Programs"

# name -> (where it lives, help panel); a `Typer` target is a group of subcommands.
COMMANDS: dict[str, tuple[str, str]] = {
    "board": ("tui.cli_boards:board_app", SETUP),
    "agent": ("tui.cli_boards:agent_app", SETUP),
    "budget": ("tui.cli_boards:budget_app", SETUP),
    "task": ("tui.cli_tasks:task_app", TASKS),
    "plan": ("tui.cli_tasks:plan", TASKS),
    "ready": ("tui.cli_tasks:ready", TASKS),
    "search": ("tui.cli_tasks:search", TASKS),
    "similar": ("tui.cli_tasks:similar", TASKS),
    "claim": ("tui.cli_work:claim", WORK),
    "heartbeat": ("tui.cli_work:heartbeat", WORK),
    "doing": ("tui.cli_work:doing", WORK),
    "log": ("tui.cli_work:log", WORK),
    "usage": ("tui.cli_work:usage", WORK),
    "submit": ("tui.cli_work:submit", WORK),
    "done": ("tui.cli_work:done", WORK),
    "fail": ("tui.cli_work:fail", WORK),
    "escalate": ("tui.cli_work:escalate", WORK),
    "release": ("tui.cli_work:release", WORK),
    "checkpoint": ("tui.cli_work:checkpoint", WORK),
    "inbox": ("tui.cli_work:inbox", WORK),
    "approve": ("tui.cli_supervise:approve", SUPERVISE),
    "reject": ("tui.cli_supervise:reject", SUPERVISE),
    "reopen": ("tui.cli_supervise:reopen", SUPERVISE),
    "answer": ("tui.cli_supervise:answer", SUPERVISE),
    "assign": ("tui.cli_supervise:assign", SUPERVISE),
    "priority": ("tui.cli_supervise:priority", SUPERVISE),
    "cancel": ("tui.cli_supervise:cancel", SUPERVISE),
    "events": ("tui.cli_events:events", REPORTS),
    "report": ("tui.cli_reports:report", REPORTS),
    "burndown": ("tui.cli_reports:burndown", REPORTS),
    "export": ("tui.cli_reports:export", REPORTS),
    "import": ("tui.cli_reports:import_", REPORTS),
    "mcp": ("tui.cli_launch:mcp", PROGRAMS),
    "screenshot": ("tui.cli_launch:screenshot", PROGRAMS),
    "demo": ("tui.cli_launch:demo", PROGRAMS),
}

# Options the root accepts before a command name, and whether each takes a value.
_ROOT_OPTIONS = {"--db": True, "--as": True, "--board": True, "--json": False}


def root(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    board: BoardOption = None,
    as_json: JsonOption = False,
) -> None:
    """A task board for AI agents and the humans who supervise them; with no command, open
    the board console.

    Agents name themselves with --as NAME (or AGENTDECK_AS) and add --json for one JSON
    document. Exit codes: 0 ok, 1 usage error or not found, 2 refused or conflict,
    3 nothing ready to claim, 4 over budget, 5 database busy or disk full.

    Example: agentdeck claim --as coder --json
    """
    before_command.db, before_command.actor = db, actor
    before_command.board, before_command.json = board, as_json
    if ctx.invoked_subcommand is None:
        from tui.cli_launch import open_console

        open_console(db, actor, board)


def build_app(only: str | None = None) -> typer.Typer:
    """The `agentdeck` app with every command, or with just the command named `only`."""
    app = typer.Typer(
        name="agentdeck",
        cls=DeckGroup,
        invoke_without_command=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        epilog="Example: agentdeck claim --as coder --json",
    )
    app.callback()(root)
    for name, (target, panel) in COMMANDS.items():
        if only is not None and name != only:
            continue
        module, _, attribute = target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        if isinstance(found, typer.Typer):
            app.add_typer(found, name=name, rich_help_panel=panel)
        else:
            app.command(name, rich_help_panel=panel)(found)
    return app


def command_name(argv: Sequence[str]) -> str | None:
    """The command an argument list runs, if only root options come before it; else None
    (then the whole app is built, for root help or a "no such command" suggestion)."""
    tokens = iter(argv)
    for token in tokens:
        option = token.split("=", 1)[0]
        if option in _ROOT_OPTIONS:
            if _ROOT_OPTIONS[option] and "=" not in token:
                next(tokens, None)
            continue
        if token.startswith("-"):
            return None
        return token if token in COMMANDS else None
    return None


def main() -> None:
    """The `agentdeck` console script."""
    app = build_app(command_name(sys.argv[1:]))
    try:
        app(prog_name="agentdeck")
    finally:
        _quiet_broken_pipe()
        # The work is done: spare the interpreter's final garbage collection over every object
        # SQLAlchemy and pydantic built (~80 ms of a short call). Objects are still freed.
        gc.freeze()


def _quiet_broken_pipe() -> None:
    """`agentdeck task list | head -1` must not end with a BrokenPipeError at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()

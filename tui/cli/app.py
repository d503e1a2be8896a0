"""`agentdeck`: the command line, one command per `Deck` verb, for agents and humans.

With no command it opens the board console. Every command is a thin adapter: parse the
arguments, call one `agentdeck.core.Deck` method, print JSON (`--json`) or text.

Start-up is the price of every agent step, so a call loads only what it runs: `main()`
builds the Typer app with just the invoked command (Typer inspects every registered
function when it builds an app), `Deck` (and SQLAlchemy) is imported when a command opens
the database, rich when it prints a table, and textual only when the console opens.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from agentdeck.tui.cli import quick
from agentdeck.tui.cli.context import ActorOption, BoardOption, DbOption, JsonOption, before_command
from agentdeck.tui.cli.errors import CliError, DeckGroup
from agentdeck.tui.cli.help_display import DeckCommand, DeckSubgroup, plain_flags_in

SETUP = "Setting up"
TASKS = "Tasks and the library"
WORK = "Agents: doing the work"
SUPERVISE = "Humans: supervising"
REPORTS = "Following, reports, import and export"
PROGRAMS = "Programs"

# name -> (where it lives, help panel); a `Typer` target is a group of subcommands.
COMMANDS: dict[str, tuple[str, str]] = {
    "board": ("agentdeck.tui.cli.boards:board_app", SETUP),
    "agent": ("agentdeck.tui.cli.boards:agent_app", SETUP),
    "budget": ("agentdeck.tui.cli.boards:budget_app", SETUP),
    "login": ("agentdeck.tui.cli.boards:login", SETUP),
    "connect": ("agentdeck.tui.cli.connect:connect", SETUP),
    "task": ("agentdeck.tui.cli.tasks:task_app", TASKS),
    "plan": ("agentdeck.tui.cli.tasks:plan", TASKS),
    "ready": ("agentdeck.tui.cli.tasks:ready", TASKS),
    "search": ("agentdeck.tui.cli.tasks:search", TASKS),
    "similar": ("agentdeck.tui.cli.tasks:similar", TASKS),
    "comment": ("agentdeck.tui.cli.comments:comment", TASKS),
    "claim": ("agentdeck.tui.cli.work:claim", WORK),
    "heartbeat": ("agentdeck.tui.cli.work:heartbeat", WORK),
    "doing": ("agentdeck.tui.cli.work:doing", WORK),
    "log": ("agentdeck.tui.cli.work:log", WORK),
    "usage": ("agentdeck.tui.cli.work:usage", WORK),
    "submit": ("agentdeck.tui.cli.work:submit", WORK),
    "done": ("agentdeck.tui.cli.work:done", WORK),
    "fail": ("agentdeck.tui.cli.work:fail", WORK),
    "escalate": ("agentdeck.tui.cli.work:escalate", WORK),
    "release": ("agentdeck.tui.cli.work:release", WORK),
    "checkpoint": ("agentdeck.tui.cli.work:checkpoint", WORK),
    "inbox": ("agentdeck.tui.cli.work:inbox", WORK),
    "send": ("agentdeck.tui.cli.work:send", WORK),
    "changes": ("agentdeck.tui.cli.history:changes", WORK),
    "rollback": ("agentdeck.tui.cli.history:rollback", WORK),
    "approve": ("agentdeck.tui.cli.supervise:approve", SUPERVISE),
    "reject": ("agentdeck.tui.cli.supervise:reject", SUPERVISE),
    "reopen": ("agentdeck.tui.cli.supervise:reopen", SUPERVISE),
    "answer": ("agentdeck.tui.cli.supervise:answer", SUPERVISE),
    "assign": ("agentdeck.tui.cli.supervise:assign", SUPERVISE),
    "priority": ("agentdeck.tui.cli.supervise:priority", SUPERVISE),
    "cancel": ("agentdeck.tui.cli.supervise:cancel", SUPERVISE),
    "events": ("agentdeck.tui.cli.events:events", REPORTS),
    "notify": ("agentdeck.tui.cli.notify:notify", REPORTS),
    "report": ("agentdeck.tui.cli.reports:report", REPORTS),
    "burndown": ("agentdeck.tui.cli.reports:burndown", REPORTS),
    "export": ("agentdeck.tui.cli.reports:export", REPORTS),
    "import": ("agentdeck.tui.cli.imports:import_", REPORTS),
    "mcp": ("agentdeck.tui.cli.launch:mcp", PROGRAMS),
    "otel": ("agentdeck.tui.cli.otel:otel", PROGRAMS),
    "hook": ("agentdeck.tui.cli.hooks:hook_app", PROGRAMS),
    "serve": ("agentdeck.tui.cli.serve:serve", PROGRAMS),
    "screenshot": ("agentdeck.tui.cli.launch:screenshot", PROGRAMS),
    "demo": ("agentdeck.tui.cli.launch:demo", PROGRAMS),
    "server": ("agentdeck.tui.cli.resident_control:server_app", PROGRAMS),
}

# Options the root accepts before a command name, and whether each takes a value.


def root(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    board: BoardOption = None,
    as_json: JsonOption = False,
    otel: Annotated[
        int | None,
        typer.Option(
            "--otel",
            metavar="PORT",
            min=0,
            max=65535,
            help="With the console: also receive the agents' OpenTelemetry on 127.0.0.1:PORT "
            "(as `agentdeck otel`; 4318 is OTLP's port).",
        ),
    ] = None,
    no_notify: Annotated[
        bool,
        typer.Option(
            "--no-notify",
            help="In the console: no bell or desktop notification when a task needs a human.",
        ),
    ] = False,
) -> None:
    """A task board for AI agents and the humans who supervise them; with no command, open
    the board console.

    Agents present their token as AGENTDECK_TOKEN (on a board in named mode, --as NAME alone
    will do) and add --json for one JSON document; humans are named by their credential file.
    Exit codes: 0 ok, 1 usage error or not found, 2 refused or conflict, 3 nothing ready to
    claim, 4 over budget, 5 database busy or disk full.

    Example: agentdeck claim --json
    """
    before_command.db, before_command.actor = db, actor
    before_command.board, before_command.json = board, as_json
    if ctx.invoked_subcommand is None:
        from agentdeck.tui.cli.launch import open_console

        open_console(db, actor, board, otel_port=otel, notify=not no_notify)
    elif otel is not None:
        raise CliError(
            "--otel starts a receiver beside the console; on its own, run `agentdeck otel`"
        )


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
            app.add_typer(plain_flags_in(found), name=name, rich_help_panel=panel, cls=DeckSubgroup)
        else:
            app.command(name, rich_help_panel=panel, cls=DeckCommand)(found)
    return app


def command_name(argv: Sequence[str]) -> str | None:
    """The command an argument list runs, if only root options come before it; else None
    (then the whole app is built, for root help or a "no such command" suggestion)."""
    token = quick.first_word(argv)
    return token if token in COMMANDS else None


# Click commands built ahead of the call, by command name: the resident server builds the
# served ones once and its children inherit them (`agentdeck.tui.cli.resident`), instead of each
# call reading its command's signature again. Empty in a process of its own.
prebuilt: dict[str, DeckGroup] = {}


def main() -> None:
    """The `agentdeck` console script."""
    name = command_name(sys.argv[1:])
    command = prebuilt.get(name) if name is not None else None
    try:
        if command is None:
            build_app(name)(prog_name="agentdeck")
        else:
            command(prog_name="agentdeck")  # what `Typer.__call__` runs, already built
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

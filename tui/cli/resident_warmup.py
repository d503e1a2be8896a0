"""The resident server's warm-up (`agentdeck.tui.cli.resident`): before it listens, the server
imports what the served commands import and builds their Click commands (`preload`), then runs
the agents' verbs on a throwaway board of its own (`warm_up`), which it closes and deletes, so
that what a first call builds is built once and inherited by every forked child.

Kept apart from the server's accept-and-fork loop: nothing here runs once the server listens.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import os
import sys
import traceback

from agentdeck.tui.cli import quick
from agentdeck.tui.cli.errors import DeckGroup


def preload() -> None:
    """Import what the served commands import, so a child imports (almost) nothing."""
    import typer.main

    from agentdeck.core import Deck  # noqa: F401  (SQLAlchemy, SQLModel, the tables)
    from agentdeck.tui.cli import app

    for name in quick.SERVED:
        module, _, _ = app.COMMANDS[name][0].partition(":")
        importlib.import_module(module)
    for module in (
        "agentdeck.core.deck",
        "agentdeck.core.storage.database",
        "agentdeck.core.views",
        "agentdeck.tui.cli.rich_views",
        "agentdeck.tui.cli.output",
        "rich.console",
        "rich.table",
    ):
        importlib.import_module(module)
    for name in quick.SERVED:  # each command's Click command, built once for every child
        command = typer.main.get_command(app.build_app(name))
        if isinstance(command, DeckGroup):
            app.prebuilt[name] = command
    for module in ("typer._adapters", "typer._click.decorators"):  # imported when parsing
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


# What the warm-up runs each round, as an agent does on one task (`{key}`), with the reads agents
# make between; each round begins with a claim: of the best ready task in the first (its key read
# from the answer), of a task by its key in the next, as agents do both.
WARM_CYCLE = (
    ("heartbeat",),
    ("doing", "warming up"),
    ("log", "{key}", "warming up"),
    ("usage", "{key}", "--tokens-in", "1", "--tokens-out", "1", "--cost", "0.01"),
    ("ready", "--json"),
    ("task", "show", "{key}", "--json"),
    ("inbox", "--json"),
    ("done", "{key}", "warm", "--verified-by", "warm-up"),
)
WARM_ROUNDS = 2


def warm_up(directory: str) -> None:
    """Run the agents' verbs through the command line on a throwaway board in a folder of the
    server's runtime `directory` (`warm-PID`), so that what a first call builds is built once here and inherited by every child
    (which halves a child's CPU): SQLAlchemy's per-statement caches (labels, type adaptations),
    the statements compiled for the driver (`agentdeck.core.storage.prepared`, kept per
    backend, not per engine), and the parsers Typer builds with pydantic for each parameter.
    Nothing here is per database or per caller: each call still makes its own engine and
    connection, checks the schema and authenticates. The board is closed and deleted before
    the server listens: no connection, file, lock or thread outlives this, and the process's
    environment, arguments, streams and the CLI's root options are put back. A folder left by
    a server killed while warming up is deleted by the next one."""
    import shutil

    from agentdeck.tui.cli import app, context

    for entry in os.scandir(directory):
        pid = entry.name.removeprefix("warm-")
        if entry.name.startswith("warm-") and pid.isdigit() and not _alive(int(pid), os.getpid()):
            shutil.rmtree(entry.path, ignore_errors=True)
    folder = os.path.join(directory, f"warm-{os.getpid()}")
    saved_env = dict(os.environ)
    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr)
    try:
        os.mkdir(folder, 0o700)
        with open(os.devnull, "w") as sink:
            db = os.path.join(folder, "board.db")
            token = _warm_up_board(db)
            os.environ.clear()
            os.environ.update(
                {
                    "HOME": folder,
                    "XDG_CONFIG_HOME": folder,
                    "AGENTDECK_DB": db,
                    "AGENTDECK_TOKEN": token,
                    quick.ENV_NO_SERVER: "1",
                }
            )
            sys.stdin = sys.stderr = sink

            def call(*words: str) -> str:
                sys.argv = ["agentdeck", *words]
                sys.stdout = answer = io.StringIO()
                with contextlib.suppress(SystemExit):
                    app.main()
                return answer.getvalue()

            untaken = [f"WARM-{n + 1}" for n in range(WARM_ROUNDS + 1)]
            for n in range(WARM_ROUNDS):
                claimed = call("claim", "--json", *([untaken[-1]] if n else []))
                key = str(json.loads(claimed)["task"]["key"])
                untaken.remove(key)
                for words in WARM_CYCLE:
                    call(*(word.format(key=key) for word in words))
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
        os.environ.clear()
        os.environ.update(saved_env)
        vars(context.before_command).update(vars(context.SharedOptions()))  # as it was
        # `app.main` froze what the calls built: collect it now, closing the board's files.
        gc.unfreeze()
        gc.collect()
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int, me: int) -> bool:
    """Whether process `pid` exists, other than `me` (whose pid an ended server had before)."""
    if pid == me:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _warm_up_board(db: str) -> str:
    """Make the warm-up's board at `db` in a child process, and return its agent's token.
    Creating a database runs its migrations, which import Alembic, Mako and Pygments (12 MB
    that no call needs): they stay in the child."""
    from agentdeck.core import Deck

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            with Deck.open(db, create=True) as deck:
                deck.create_board("WARM", "Warm-up", actor="warm-up")
                deck.add_agent("agent", actor="warm-up")
                for n in range(WARM_ROUNDS + 1):
                    deck.add_task(f"Warm-up task {n}", actor="warm-up")
                os.write(write_end, (deck.issued_token("agent", "WARM") or "").encode())
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_end)
    with open(read_end, "rb") as answer:
        token = answer.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not token:
        raise RuntimeError("could not make the warm-up board")
    return token

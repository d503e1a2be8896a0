"""Commands that start another program: the board console, the MCP server, screenshots, the demo.

Each imports its program only when run, so an ordinary CLI call never loads textual,
plotext or mcp.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tui.cli_context import ActorOption, DbOption, Session
from tui.cli_errors import CliError


def open_console(db: str | None, actor: str | None, board: str | None) -> None:
    """Open the Textual board console; outside a terminal, explain instead of drawing."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError(
            "the board console needs a terminal; agents use the subcommands "
            "(see `agentdeck --help`)"
        )
    s = Session(db, actor, board, False)
    try:
        from tui.app import run_app
    except ImportError as exc:
        raise CliError(f"the board console cannot start: {exc}") from exc
    run_app(db=s.db, actor=s.human())


def mcp(db: DbOption = None, actor: ActorOption = None) -> None:
    """Serve agentdeck's agent tools over stdio with the Model Context Protocol.

    Example: agentdeck mcp --as coder
    """
    s = Session(db, actor, None, False)
    try:
        from core.mcp_server import main as serve
    except ImportError as exc:
        raise CliError(
            f"the MCP server needs the mcp package (pip install 'agentdeck[mcp]'): {exc}"
        ) from exc
    serve(s.db, s.actor)


def screenshot(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="SVG file to write.")],
    screen: Annotated[
        str, typer.Option(help="Which screen to draw, like board or task.")
    ] = "board",
    size: Annotated[str, typer.Option(metavar="COLSxROWS", help="Terminal size.")] = "140x42",
    sample: Annotated[
        str | None, typer.Option(help="Draw a sample board, like website, instead of --db.")
    ] = None,
) -> None:
    """Draw a console screen to an SVG file, reproducibly (frozen clock, no cursor blink).

    Example: agentdeck screenshot --out screenshots/board.svg --screen board --sample website
    """
    columns, _, rows = size.lower().partition("x")
    if not (columns.isdigit() and rows.isdigit()):
        raise CliError(f"--size {size!r} must look like 140x42")
    try:
        from tui.screenshot import take_screenshot
    except ImportError as exc:
        raise CliError(f"screenshots are not available: {exc}") from exc
    take_screenshot(out=out, screen=screen, size=(int(columns), int(rows)), sample=sample)


def demo(ctx: typer.Context) -> None:
    """Run simulated agents on a sample board, reproducibly from a seed, for recordings.

    Options after `demo` go to the demo itself; see the README.

    Example: agentdeck demo --sample website --seed 7
    """
    try:
        from tui.demo.run import demo_command
    except ImportError as exc:
        raise CliError(f"the demo is not available: {exc}") from exc
    demo_command(list(ctx.args))

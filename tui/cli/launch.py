"""Commands that start another program: the board console, the MCP server, screenshots, the demo.

Each imports its program only when run, so an ordinary CLI call never loads textual,
plotext or mcp.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentdeck.tui.cli.context import ActorOption, DbOption, Session
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import say

StoryOption = Annotated[
    str,
    typer.Option(
        "--sample", "--board", metavar="NAME", help="Sample board: website, database or research."
    ),
]


def open_console(
    db: str | None,
    actor: str | None,
    board: str | None,
    *,
    otel_port: int | None = None,
    notify: bool = True,
) -> None:
    """Open the Textual board console; outside a terminal, explain instead of drawing.
    `notify` False: no bell or desktop notification when a task needs a human. With
    `otel_port`, an OTLP receiver (`agentdeck otel`) runs beside it, in a thread of this
    process with its own deck, quiet (its refusals are counted, not printed over the
    console), and stops with it."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError(
            "the board console needs a terminal; agents use the subcommands "
            "(see `agentdeck --help`)"
        )
    s = Session(db, actor, board, False)
    try:
        from agentdeck.tui.console.app import run_app
    except ImportError as exc:
        raise CliError(f"the board console cannot start: {exc}") from exc
    if otel_port is None:
        run_app(db=s.db, actor=s.actor, board=s.board, notify=notify)
        return
    from agentdeck.tui.cli.otel import DEFAULT_MAX_BODY, open_deck, start_receiver

    deck = open_deck(s.db)
    try:
        receiver = start_receiver(deck, "127.0.0.1", otel_port, DEFAULT_MAX_BODY, log=None)
        try:
            run_app(db=s.db, actor=s.actor, board=s.board, notify=notify)
        finally:
            receiver.stop()
    finally:
        deck.close()


def mcp(db: DbOption = None, actor: ActorOption = None) -> None:
    """Serve agentdeck's agent tools over stdio with the Model Context Protocol.

    Acts only as the holder of AGENTDECK_TOKEN, set in the server's environment (or, on a board in named mode, --as NAME); a human's credential file is never read.

    Example: agentdeck mcp --db .agentdeck/board.db
    """
    s = Session(db, actor, None, False)
    try:
        from agentdeck.core.mcp.server import main as serve
    except ImportError as exc:
        raise CliError(
            f"the MCP server needs the mcp package (pip install 'agentdeck[mcp]'): {exc}"
        ) from exc
    serve(s.db, s.actor)


def screenshot(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="SVG file to write.")],
    screen: Annotated[
        str,
        typer.Option(help="board, charts, detail, needs-human, search, report or help."),
    ] = "board",
    size: Annotated[str, typer.Option(metavar="COLSxROWS", help="Terminal size.")] = "140x42",
    sample: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Draw a sample board (website, database, research)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Draw a console screen to an SVG file, reproducibly (frozen clock, no cursor blink).

    Draws a copy of a sample board, or of the database (--db, AGENTDECK_DB, or the nearest).

    Example: agentdeck screenshot --out screenshots/board.svg --screen board --sample website
    """
    source = _sample_file(sample) if sample else _database_source(Session(db, None, None, False))
    try:
        from agentdeck.tui.demo.screenshot import take_screenshot
    except ImportError as exc:
        raise CliError(f"screenshots are not available: {exc}") from exc
    say(f"wrote {take_screenshot(source, out, screen, size)}")


def demo(
    story: StoryOption = "website",
    agents: Annotated[int, typer.Option(help="How many simulated agents.")] = 4,
    speed: Annotated[float, typer.Option(help="Time speed-up; 2 is twice as fast.")] = 1.0,
    seed: Annotated[int, typer.Option(help="The same seed replays the same run.")] = 0,
    db: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Keep the demo database here.")
    ] = None,
    headless: Annotated[
        bool, typer.Option("--headless", help="No console: print a summary at the end.")
    ] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    turns: Annotated[int | None, typer.Option(help="Stop after this many agent turns.")] = None,
    otel: Annotated[
        int | None,
        typer.Option(
            "--otel",
            metavar="PORT",
            min=0,
            max=65535,
            help="Also run the OTLP receiver on 127.0.0.1:PORT (0: any free port); the agents "
            "export their usage to it as Claude Code does, and report less themselves.",
        ),
    ] = None,
) -> None:
    """Run simulated agents on a sample board, reproducibly from a seed, for recordings.

    The demo database is a temporary file unless --db is given; your boards are not touched.

    Example: agentdeck demo --sample website --agents 5 --seed 7
    """
    try:
        from agentdeck.tui.demo.run import demo_command
    except ImportError as exc:
        raise CliError(f"the demo is not available: {exc}") from exc
    code = demo_command(
        story, agents, speed, seed, db, headless, duration, turns=turns, otel_port=otel
    )
    raise typer.Exit(code)


def _sample_file(name: str) -> Path:
    """A sample board by name (website) or as a path to an exported board file."""
    given = Path(name)
    if given.is_file():
        return given
    from agentdeck.tui.demo.samples import SAMPLE_DIR

    found = SAMPLE_DIR / f"{name}.json"
    if not found.is_file():
        names = ", ".join(sorted(p.stem for p in SAMPLE_DIR.glob("*.json"))) or "none found"
        raise CliError(f"no sample board {name!r}; samples: {names}")
    return found


def _database_source(s: Session) -> str:
    """The database the options point at: its SQLite file, or its full URL."""
    deck = s.deck()
    if deck.path is not None:
        return str(deck.path)
    return deck.engine.url.render_as_string(hide_password=False)

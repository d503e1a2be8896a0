"""`agentdeck serve`: the board console in a browser, with Textual's own web server.

textual-serve runs one command per browser session (here the console, `python -m
agentdeck.tui.console.served`, with the database and board in its environment) and relays its
screen and keys over a websocket. It has no notion of who is asking, so the guard here
(`agentdeck.tui.cli.web_guard`) decides: on a loopback address the machine's own users are
trusted as a terminal would be; bound anywhere else, every HTTP and websocket request must carry
the human's credential. Loaded only when run: an ordinary CLI call never imports aiohttp.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Annotated

import typer

from agentdeck.tui.cli.context import Session, deck_command
from agentdeck.tui.cli.errors import CliError


@deck_command()
def serve(
    s: Session,
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", help="Address to listen on; loopback by default.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the board console in a browser (textual-serve): one console per browser tab.

    On 127.0.0.1 (the default) anyone on this machine may open it, as with a terminal. Bound to any other address, the browser must sign in with your credential: the token `agentdeck login` saved for this database in ~/.config/agentdeck/credentials.json, checked on every page and websocket; use TLS in front of it (a reverse proxy) across a network. Ctrl-C stops it.

    Example: agentdeck serve --port 8000
    """
    try:
        from agentdeck.tui.cli.web_guard import ConsoleServer, is_loopback, saved_token_digests
    except ImportError as exc:
        raise CliError(
            f"agentdeck serve needs textual-serve (pip install textual-serve): {exc}"
        ) from None
    deck = s.deck()
    board = deck.get_board(s.board).key if s.board else None
    digests: frozenset[str] | None = None
    if not is_loopback(host):
        digests = saved_token_digests(deck, board)
        if not digests:
            raise CliError(
                f"serving on {host} needs your credential, and this database has none saved for "
                "you: sign in with `agentdeck login` first (or serve on 127.0.0.1)"
            )
    # What each browser session's console opens: this database and board, by environment,
    # so a PostgreSQL URL's password never shows in a command line.
    source = (
        str(deck.path)
        if deck.path is not None
        else deck.engine.url.render_as_string(hide_password=False)
    )
    os.environ["AGENTDECK_DB"] = source
    if board:
        os.environ["AGENTDECK_BOARD"] = board
    command = shlex.join([sys.executable, "-m", "agentdeck.tui.console.served"])
    title = f"agentdeck — {board}" if board else "agentdeck"
    s.close()
    ConsoleServer(command, host=host, port=port, title=title, digests=digests).serve()

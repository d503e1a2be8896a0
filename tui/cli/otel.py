"""`agentdeck otel`: receive the agents' own OpenTelemetry, so usage counts itself.

Serves OTLP over HTTP (`agentdeck.core.otel.receiver`) until Ctrl-C, writing what each agent
measured onto the task it holds. It prints the endpoint and the environment an agent needs;
`agentdeck connect claude-code` writes that environment for Claude Code.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from agentdeck.tui.cli import client_files as files
from agentdeck.tui.cli.context import DbOption, Session
from agentdeck.tui.cli.errors import CliError, warn
from agentdeck.tui.cli.output import say
from agentdeck.tui.cli.stopping import stop_on_interrupt

if TYPE_CHECKING:
    from agentdeck.core import Deck
    from agentdeck.core.otel.receiver import Receiver

DEFAULT_PORT = 4318  # OTLP/HTTP's registered port; core.otel.receiver says the same
DEFAULT_MAX_BODY = 4 * 1024 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

HostOption = Annotated[
    str,
    typer.Option(
        "--host",
        metavar="ADDRESS",
        help="Address to listen on; anything but 127.0.0.1 lets other machines send (tokens "
        "travel in clear over plain HTTP).",
    ),
]
PortOption = Annotated[
    int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free one).")
]
MaxBodyOption = Annotated[
    int,
    typer.Option(
        "--max-body",
        metavar="BYTES",
        min=1024,
        help="Largest request body taken, also once decompressed; larger ones get 413.",
    ),
]


def otel(
    host: HostOption = "127.0.0.1",
    port: PortOption = DEFAULT_PORT,
    max_body: MaxBodyOption = DEFAULT_MAX_BODY,
    db: DbOption = None,
) -> None:
    """Receive the agents' own OpenTelemetry (OTLP over HTTP: metrics, traces and logs, protobuf or JSON) and record the tokens and cost they measured on the task each agent holds, marked as measured.

    Each agent is known by its own token in the OTLP headers (Authorization=Bearer); a missing or unknown one is refused with 401 and counted. Runs until Ctrl-C.

    Example: agentdeck otel --port 4318
    """
    deck = open_deck(db)
    # The stop signals are caught before anything is printed: whoever reads the endpoint and
    # then sends Ctrl-C or SIGTERM at once finds them handled (a clean stop, exit 0).
    with _stop_signals() as stop:
        try:
            receiver = start_receiver(deck, host, port, max_body, log=warn)
        except BaseException:
            deck.close()
            raise
        say(f"agentdeck otel: receiving OTLP/HTTP on {receiver.endpoint} (Ctrl-C stops it)")
        say("An agent sends its usage with its own token (AGENTDECK_TOKEN) in this environment:")
        for key, value in files.telemetry_env(receiver.endpoint, "$AGENTDECK_TOKEN").items():
            say(f"  {key}={value}")
        say("`agentdeck connect claude-code` writes it for Claude Code.")
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            receiver.stop()
            deck.close()
    say(f"agentdeck otel: stopped after {receiver.points} measured points")


def open_deck(db: str | None) -> Deck:
    """The database the receiver writes to. It presents no credential of its own: each
    request is taken as the agent whose token it carries, and no one else."""
    from agentdeck.core import Deck

    s = Session(db, None, None, False)
    deck = Deck.open(s.db)
    for warning in deck.warnings:
        warn(warning)
    return deck


def start_receiver(
    deck: Deck, host: str, port: int, max_body: int, log: Callable[[str], None] | None
) -> Receiver:
    """An OTLP receiver serving `deck` from a background thread; a port already taken, or an
    address this machine does not have, is one line."""
    from agentdeck.core.otel.receiver import Receiver

    try:
        receiver = Receiver(deck, host, port, max_body=max_body, log=log)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if host not in LOCAL_HOSTS:
        warn(
            f"listening on {host}: other machines can send usage here, and their tokens "
            "travel in clear over plain HTTP; keep it on a trusted network"
        )
    return receiver.start()


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM while the block runs."""
    with stop_on_interrupt() as stop:
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
        try:
            yield stop
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

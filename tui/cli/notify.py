"""`agentdeck notify --webhook URL`: one message per task entering Needs human, to Slack or ntfy.

Follows the board's events the way `agentdeck events --follow` does (core's change feed: file
events on SQLite, LISTEN/NOTIFY on PostgreSQL), reads each as an alert (`agentdeck.core.alerts`)
and hands it to `agentdeck.tui.cli.webhook`, which sends, rate-limits and retries. The cursor is
saved after every delivery, so a restart resumes where the last run stopped: nothing is sent
twice, and alerts still held back by the rate limit are sent then.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentdeck.tui.cli.context import Session, deck_command
from agentdeck.tui.cli.errors import EXIT_BUSY, EXIT_REFUSED, CliError, warn
from agentdeck.tui.cli.output import say
from agentdeck.tui.cli.stopping import interrupt_calls

if TYPE_CHECKING:
    from agentdeck.core import Deck
    from agentdeck.core.alerts import Alert
    from agentdeck.tui.cli.webhook import Delivery

IDLE_WAIT_S = 60.0
MAX_RATE = 600


def per_minute(rate: str) -> int:
    """`10/min` or `10` -> 10; anything else is a usage error."""
    found = re.fullmatch(r"\s*(\d+)\s*(?:/\s*min)?\s*", rate)
    if found is None or not 1 <= int(found.group(1)) <= MAX_RATE:
        raise CliError(f"--rate must be N/min with N from 1 to {MAX_RATE}, like 10/min")
    return int(found.group(1))


@deck_command()
def notify(
    s: Session,
    webhook: Annotated[
        str, typer.Option("--webhook", metavar="URL", help="The webhook to post to (a secret).")
    ],
    fmt: Annotated[
        str, typer.Option("--format", metavar="slack|ntfy", help="Slack-compatible JSON or ntfy.")
    ] = "slack",
    rate: Annotated[
        str,
        typer.Option(
            "--rate", metavar="N/min", help="At most N messages a minute; the rest in a summary."
        ),
    ] = "10/min",
    since: Annotated[
        int | None,
        typer.Option(
            "--since", metavar="ID", help="Start after this event id (not the saved one)."
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", metavar="FILE", help="Where to keep the cursor between runs."),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Send what is new, then stop (for cron).")
    ] = False,
) -> None:
    """Post a message to a webhook each time a task needs a human (review, escalation, budget stop) or fails.

    Follows the events until Ctrl-C. Over --rate, alerts wait and go out together in one summary message, never dropped. Server errors and lost connections are retried with growing waits; a 4xx answer stops it with one line. The cursor is kept in --state (default under $XDG_STATE_HOME/agentdeck/), so a restart sends nothing twice; the first run starts from now. Without --board, every board.

    Example: agentdeck notify --webhook https://ntfy.sh/my-team-topic --format ntfy --rate 6/min
    """
    from agentdeck.core import identity
    from agentdeck.core.feed import ChangeFeed
    from agentdeck.tui.cli.webhook import (
        FORMATS,
        Delivery,
        WebhookError,
        check_url,
        host_of,
        read_cursor,
        save_cursor,
        state_path,
    )

    if fmt not in FORMATS:
        raise CliError(f"--format must be slack or ntfy, not {fmt!r}")
    limit = per_minute(rate)
    try:
        url = check_url(webhook)
    except WebhookError as exc:
        raise CliError(exc.message) from None
    deck = s.deck()
    board = deck.get_board(s.board).key if s.board else None
    path = state or state_path(identity.database_id(deck.url, deck.path), board, url)
    cursor = since if since is not None else read_cursor(path)
    if cursor is None:
        cursor = deck.max_event_id()  # a first run announces what happens from now on
    save_cursor(path, cursor)
    delivery = Delivery(url, fmt, limit, note=warn)
    where = f"board {board}" if board else "every board"
    if not once:
        say(f"notifying {host_of(url)} of {where} after event {cursor}; Ctrl-C stops")
    feed = ChangeFeed(deck)
    try:
        with interrupt_calls(feed.close) as stop:
            while True:
                cursor = _send_new(deck, board, cursor, delivery, path)
                if once or stop.is_set():
                    break
                free_in = delivery.next_free_in()
                feed.wait(cursor, IDLE_WAIT_S if free_in is None else free_in)
                if stop.is_set():
                    break
    except WebhookError as exc:
        raise CliError(exc.message, EXIT_REFUSED if exc.refused else EXIT_BUSY) from None
    finally:
        feed.close()
    if delivery.held:
        say(f"{len(delivery.held)} held back by --rate; the next run sends them")


def _send_new(deck: Deck, board: str | None, cursor: int, delivery: Delivery, path: Path) -> int:
    """Offer every alert after `cursor` and flush what the limit allows; save and return the
    newest event id read. The saved cursor stops before the first alert still held back."""
    from agentdeck.core.alerts import alerts_after
    from agentdeck.tui.cli.webhook import save_cursor

    def safe(read: int) -> int:
        return delivery.held[0][0].event_id - 1 if delivery.held else read

    delivery.flush()
    saved = safe(cursor)
    save_cursor(path, saved)
    for event_id, alert in alerts_after(deck, cursor, board):
        cursor = event_id
        if alert is not None:
            delivery.offer(alert, _title(deck, alert))
            if safe(cursor) != saved:
                saved = safe(cursor)
                save_cursor(path, saved)
    if safe(cursor) != saved:
        save_cursor(path, safe(cursor))
    return cursor


def _title(deck: Deck, alert: Alert) -> str:
    """The task's title (agent text), or "" if it is gone."""
    from agentdeck.core import DeckError

    try:
        return deck.get_task(alert.task).title
    except DeckError:
        return ""

"""`agentdeck events`: print the paper trail after a cursor, and with --follow keep
following it like `tail -f`.

Waiting is event-driven: on SQLite the database directory is watched with watchfiles (the
file and its `-wal`, not `-shm`) and every wake-up, or 0.5 s without one, is confirmed by the
cheap max event id; on PostgreSQL LISTEN/NOTIFY wakes it. Ctrl-C ends it cleanly (exit 0).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from agentdeck.tui.cli.context import (
    Session,
    deck_command,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import print_json
from agentdeck.tui.cli.pages import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AllOption,
    CursorOption,
    emit_items,
    id_after,
    more,
    stream,
    view,
)
from agentdeck.tui.cli.stopping import stop_on_interrupt

if TYPE_CHECKING:
    import threading

    from agentdeck.core import Deck
    from agentdeck.core.models import Event

POLL_S = 0.5
PAGE = 500


@deck_command(full=True)
def events(
    s: Session,
    since: Annotated[
        int | None,
        typer.Option("--since", metavar="ID", help="Print events after this id."),
    ] = None,
    cursor: CursorOption = None,
    limit: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_LIMIT,
            metavar="N",
            help="At most N per page; without --since or --cursor, the newest N.",
        ),
    ] = DEFAULT_LIMIT,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events; Ctrl-C stops.")
    ] = False,
    every: AllOption = False,
) -> None:
    """Print events (every change, log entry and message) after a cursor, oldest first.

    An event's id is a cursor: pass the last id you saw as --since to resume. Without --follow it prints one page: with --json {"events": [...], "next_cursor": C or null}, and --cursor C gives the next page. With --follow --json, one compact JSON object per line per event. --full gives each event whole (with its data). With --all: every event after --since (from the first without it) up to now, one JSON object per line, streamed.

    Example: agentdeck events --follow --board WEB
    """
    if since is not None and cursor is not None:
        raise CliError("give --since or --cursor, not both")
    after = id_after(cursor) if cursor is not None else since
    deck = s.deck()
    board_key = deck.get_board(s.board).key if s.board else None
    if every:
        if follow:
            raise CliError("give --all or --follow, not both")
        stream(s, deck.iter_events(after or 0, board=board_key))
        return
    start = after if after is not None else max(0, deck.max_event_id() - limit)
    if not follow:
        found = deck.events_since(start, board=board_key, limit=limit + 1)
        shown = found[:limit]
        next_cursor = str(shown[-1].id) if len(found) > limit else None
        emit_items(s, "events", shown, next_cursor, render=_lines)
        return
    show = _printer(s.json, s.full)
    with stop_on_interrupt() as stop:
        start = _drain(deck, start, board_key, show, stop)
        for _ in _wake_ups(deck, start, stop):
            start = _drain(deck, start, board_key, show, stop)


def _lines(shown: Sequence[Event], next_cursor: str | None) -> None:
    """One page of events for people, and how to see the next."""
    if shown:
        from agentdeck.tui.cli import rich_views
        from agentdeck.tui.cli.output import show

        show(*(rich_views.event_line(event) for event in shown))
    more(next_cursor)


def _pages(deck: Deck, cursor: int, board: str | None) -> Iterator[Event]:
    """Every event after `cursor` (on `board`), a page at a time."""
    while True:
        page = deck.events_since(cursor, board=board, limit=PAGE)
        yield from page
        if len(page) < PAGE:
            return
        cursor = page[-1].id


def _drain(
    deck: Deck, cursor: int, board: str | None, show: Callable[[Event], None], stop: threading.Event
) -> int:
    """Print everything after `cursor` (until Ctrl-C); return the new cursor."""
    for event in _pages(deck, cursor, board):
        if stop.is_set():
            break
        show(event)
        cursor = event.id
    return cursor


def _printer(as_json: bool, full: bool) -> Callable[[Event], None]:
    if as_json:
        return lambda event: print_json(view(event, full))
    from agentdeck.tui.cli import rich_views
    from agentdeck.tui.cli.output import show

    return lambda event: show(rich_views.event_line(event))


def _wake_ups(deck: Deck, seen: int, stop: threading.Event) -> Iterator[None]:
    """Yield whenever the max event id grows past `seen` (checked on file events and every
    0.5 s); starting from the printed cursor, a write that lands before watching starts is
    still caught."""
    for _ in _hints(deck, stop):
        if stop.is_set():
            return
        latest = deck.max_event_id()
        if latest > seen:
            seen = latest
            yield


def _hints(deck: Deck, stop: threading.Event) -> Iterator[None]:
    """Wake-ups that something may have changed: file events, notifications, or a timeout."""
    path = deck.path
    if path is None:
        yield from _notifications(deck, stop)
        return
    from watchfiles import watch

    names = {path.name, f"{path.name}-wal"}
    for _ in watch(
        path.parent,
        watch_filter=lambda _change, changed: os.path.basename(changed) in names,
        debounce=30,
        step=10,
        rust_timeout=int(POLL_S * 1000),
        yield_on_timeout=True,
        stop_event=stop,
    ):
        yield


def _notifications(deck: Deck, stop: threading.Event) -> Iterator[None]:
    """PostgreSQL: wake on NOTIFY, or every 0.5 s if notifications are lost."""
    from agentdeck.core.storage.listen import ChangeListener

    listener = ChangeListener(deck.engine)
    try:
        while not stop.is_set():
            listener.wait(POLL_S)
            yield
    finally:
        listener.close()

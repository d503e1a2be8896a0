"""The agentdeck console: a Textual app over one `agentdeck.core.Deck`.

The app opens the deck in a worker, shows the board, runs the file watcher and routes its
hints to the screens. Screens and widgets live in `tui/screens` and `tui/widgets`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from agentdeck.core import (
    Deck,
    DeckError,
    NotFoundError,
    PermissionDeniedError,
    SchemaError,
    identity,
)
from agentdeck.tui.console.notify import NeedsHumanNotifier
from agentdeck.tui.console.palette import DeckCommands, deck_commands, textual_commands
from agentdeck.tui.console.screens.base import error_line
from agentdeck.tui.console.screens.board import BoardScreen
from agentdeck.tui.console.screens.help import HelpScreen
from agentdeck.tui.console.screens.status import ProblemScreen, StartScreen
from agentdeck.tui.console.watcher import DatabaseWatcher

DEFAULT_THEME = "tokyo-night"


class AgentDeckApp(App[None]):
    """The live console: board, task detail, needs-human queue, search and report."""

    CSS_PATH = "app.tcss"
    COMMANDS = {DeckCommands}
    TITLE = "agentdeck"
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="Leave agentdeck", show=False),
        Binding(
            "question_mark", "show_help", "Help", key_display="?", tooltip="What each key does here"
        ),
    ]

    db_problem: reactive[str | None] = reactive(None)
    # When a write of this console started waiting for another writer's lock (monotonic), or None.
    write_wait_since: reactive[float | None] = reactive(None)

    @dataclass
    class Opened(Message):
        """The deck is open and the board to show is known."""

        deck: Deck
        board: str
        boards: int
        cursor: int  # the newest event when it opened: nothing before it rings

    @dataclass
    class WriteWait(Message):
        """A write of this console started (True) or stopped (False) waiting for a lock."""

        waiting: bool

    def __init__(
        self,
        *,
        db: str | None = None,
        deck: Deck | None = None,
        actor: str | None = None,
        board: str | None = None,
        watch: bool = True,
        clock: Callable[[], datetime] | None = None,
        theme: str = DEFAULT_THEME,
        notify: bool = True,
    ) -> None:
        super().__init__()
        self._db = db
        self._given_deck = deck
        self._clock = clock
        self._theme_name = theme
        self.deck: Deck = deck  # type: ignore[assignment]  # set before any screen uses it
        self.board_key = board.upper() if board else ""
        self._given_actor = actor  # a name to act under; the credential decides (`ensure_human`)
        self.actor = actor or ""
        self.watch_enabled = watch
        self.watching = False
        self._watcher: DatabaseWatcher | None = None
        self._write_waits = 0
        self.notifier = NeedsHumanNotifier(self, enabled=notify)

    # -- opening -----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return StartScreen()

    def on_mount(self) -> None:
        self.theme = self._theme_name
        self.open_deck()

    @work(thread=True, group="open", exit_on_error=False)
    def open_deck(self) -> None:
        deck = self._given_deck
        if deck is None:
            deck = Deck.open(self._db, clock=self._clock)
            identity.present_credentials(deck)
        cursor = deck.max_event_id()
        boards = deck.list_boards()
        if not boards:
            raise NotFoundError(
                "there is no board in this database yet; create one with `agentdeck board create`"
            )
        keys = [b.key for b in boards]
        board = self.board_key or keys[0]
        if board not in keys:
            raise NotFoundError(f"no board {board!r} here; boards: {', '.join(keys)}")
        self.post_message(self.Opened(deck, board, len(boards), cursor))

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        self.deck = message.deck
        self.board_key = message.board
        self.deck.watch_write_waits(self._write_wait_changed)
        self.notifier.start(message.cursor)
        self.push_screen(BoardScreen())
        for warning in self.deck.warnings:
            self.notify(warning, severity="warning", timeout=30, markup=False)
        if message.boards > 1:
            self.notify(f"{message.boards} boards here; B switches", markup=False)
        if self.watch_enabled:
            self.start_watching()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "open":
            hint = ""
            if isinstance(error, SchemaError):
                hint = "Upgrade agentdeck, or pass --db with another database."
            elif isinstance(error, NotFoundError):
                hint = "Pass --db PATH or set AGENTDECK_DB; press q to quit."
            self.push_screen(ProblemScreen(error_line(error), hint))
        else:
            self.notify(error_line(error), severity="error", markup=False, timeout=8)

    # -- live refresh ------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Watch the database for writes by other processes."""
        self.stop_watching()
        self._watcher = DatabaseWatcher(self.deck, self)
        self.watching = True
        self.run_worker(
            self._watcher.run, thread=True, group="watcher", exclusive=True, exit_on_error=False
        )

    def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.watching = False

    @on(DatabaseWatcher.Changed)
    def _database_changed(self, message: DatabaseWatcher.Changed) -> None:
        self.request_refresh()

    @on(DatabaseWatcher.Trouble)
    def _database_trouble(self, message: DatabaseWatcher.Trouble) -> None:
        if message.problem and message.problem != self.db_problem:
            self.notify(
                message.problem, title="database", severity="error", markup=False, timeout=10
            )
        elif not message.problem and self.db_problem:
            self.notify("the database is readable again", markup=False)
            self.request_refresh()
        self.db_problem = message.problem

    def _write_wait_changed(self, waiting: bool) -> None:
        """Called by the deck in the waiting worker's thread: hand it to the UI thread."""
        self.post_message(self.WriteWait(waiting))

    @on(WriteWait)
    def _write_wait(self, message: WriteWait) -> None:
        self._write_waits = max(0, self._write_waits + (1 if message.waiting else -1))
        if not self._write_waits:
            self.write_wait_since = None
        elif self.write_wait_since is None:
            self.write_wait_since = time.monotonic()

    def request_refresh(self) -> None:
        """Ask every screen that shows data to load what changed, and the notifier to look
        for tasks that entered Needs human."""
        self.notifier.check()
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_data", None)
            if callable(refresh):
                refresh()

    def switch_board(self, key: str) -> None:
        """Show another board of the same database."""
        self.board_key = key
        self.switch_screen(BoardScreen())

    def on_unmount(self) -> None:
        self.stop_watching()
        if self.deck is not None:
            self.deck.watch_write_waits(None)
        if self._given_deck is None and self.deck is not None:
            self.deck.close()

    # -- the human ---------------------------------------------------------------------------

    def ensure_human(self, deck: Deck) -> str:
        """The name the human acts under on this board (in a worker): the one given, else the
        holder of their credential for it. Nobody joins a board by opening the console: with
        no credential for this board, a move is refused here with what to do about it (one
        line); with one, `Deck` still checks that it backs the name given."""
        me = deck.whoami(self.board_key)
        if me is None:
            raise PermissionDeniedError(no_credential_line(self.board_key))
        self.actor = identity.named_actor(self._given_actor) or me.name
        return self.actor

    # -- keys and the command palette --------------------------------------------------------

    def action_show_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key the current screen offers, as a one-line command, then the switch for
        notifications, then the few of Textual's own commands kept (`palette.DeckCommands`
        shows them in this order)."""
        yield from deck_commands(self, screen)
        on = self.notifier.enabled
        yield SystemCommand(
            f"Notifications: turn {'off' if on else 'on'}",
            "The bell and desktop notification when a task needs a human",
            self.toggle_notifications,
        )
        yield from textual_commands(super().get_system_commands(screen))

    def toggle_notifications(self) -> None:
        """Turn the bell and desktop notifications for Needs human on or off."""
        self.notifier.enabled = not self.notifier.enabled
        state = "on" if self.notifier.enabled else "off"
        self.notify(f"notifications {state}", markup=False)


def no_credential_line(board: str) -> str:
    """Why a console with no credential for `board` cannot move anything, and the way out."""
    return (
        f"you hold no credential for board {board}, so you can look but not act: save the "
        "token a human gave you with `agentdeck login --token -` (or `agentdeck login` on a "
        "board no human holds a token for yet)"
    )


def make_app(
    deck: Deck,
    *,
    actor: str | None = "ann",
    board: str | None = None,
    watch: bool = False,
    theme: str = DEFAULT_THEME,
) -> AgentDeckApp:
    """An app over an open deck: what tests, snapshots and screenshots use."""
    return AgentDeckApp(deck=deck, actor=actor, board=board, watch=watch, theme=theme)


def run_app(
    db: str | None,
    actor: str | None,
    board: str | None = None,
    *,
    deck: Deck | None = None,
    notify: bool = True,
) -> None:
    """Open the console on a database (None: `AGENTDECK_DB` or the nearest board database),
    or on an open `deck` that already holds the credential to act with (the demo's);
    `notify` False: no bell or desktop notification when a task needs a human."""
    try:
        AgentDeckApp(db=db, deck=deck, actor=actor, board=board, notify=notify).run()
    except DeckError as exc:  # raised before the app could show it
        raise SystemExit(f"agentdeck: {exc.message}") from None

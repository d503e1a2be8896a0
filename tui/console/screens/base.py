"""What every agentdeck screen shares: the deck, and one handler for failed workers.

Database work runs in thread workers; a worker that raises ends up in `on_worker_state_changed`
here, which turns the error into one readable notification instead of a crash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from textual import events, on
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from agentdeck.core import Deck, DeckError
from agentdeck.tui.console.agent_text import clean
from agentdeck.tui.console.widgets.write_wait import WriteWaitBanner

if TYPE_CHECKING:
    from agentdeck.tui.console.app import AgentDeckApp

ResultType = TypeVar("ResultType")


def error_line(error: BaseException | None) -> str:
    """One line a human can read for an error raised in a worker."""
    if isinstance(error, DeckError):
        return clean(error.message, single_line=True, limit=300)
    if isinstance(error, sa.exc.OperationalError):
        detail = str(error.orig) if error.orig is not None else str(error)
        return clean(f"database error: {detail}", single_line=True, limit=300)
    text = str(error).splitlines()[0] if error is not None and str(error) else ""
    name = type(error).__name__ if error is not None else "error"
    return clean(f"{name}: {text}" if text else name, single_line=True, limit=300)


class WorkerErrors:
    """Mixin for screens: report failed workers, and tell the screen when a worker ends."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.worker_ended(event.worker)

    def worker_failed(self, worker: Worker[Any]) -> None:
        """Show the error; screens may override to add recovery (and call super)."""
        self.app.notify(  # type: ignore[attr-defined]
            error_line(worker.error), title="agentdeck", severity="error", markup=False, timeout=8
        )

    def worker_ended(self, worker: Worker[Any]) -> None:
        """Hook for single-flight workers: called once a worker succeeded, failed or was cancelled."""


class OnDeck(WorkerErrors):
    """Mixin for screens and dialogs: the app's deck and board, and its worker-error handling."""

    @property
    def deck_app(self) -> AgentDeckApp:
        return self.app  # type: ignore[attr-defined,no-any-return]

    @property
    def deck(self) -> Deck:
        """The deck, to hand to workers; the UI thread itself never calls it."""
        return self.deck_app.deck

    @property
    def board_key(self) -> str:
        return self.deck_app.board_key


class DeckScreen(OnDeck, Screen[None]):
    """A full screen over the app's deck and board, with a line that shows while one of the
    console's writes waits for another process's lock."""

    @on(events.Mount)
    def _add_wait_banner(self) -> None:
        self.mount(WriteWaitBanner())


class DeckModal(OnDeck, ModalScreen[ResultType]):
    """A dialog over the current screen, returning a result with `dismiss`."""

"""A one-line banner saying the console is waiting for another writer's lock.

A human's move (approve, reject, ...) runs in a worker. When another process holds the
database's write lock, that worker waits up to the deck's timeout; the app learns of the wait
from `Deck.watch_write_waits` and keeps its start in `AgentDeckApp.write_wait_since`. Every deck
screen shows this banner while it is set, counting the seconds, so the console never looks
frozen; the banner goes when the lock comes or the wait gives up (which shows its own error).
"""

from __future__ import annotations

import time

from textual.timer import Timer
from textual.widgets import Static

from agentdeck.tui.console.agent_text import styled

TICK_S = 0.5


def wait_text(seconds: float, timeout: float | None) -> str:
    """`database busy — waiting for another writer (3 s of 15 s)`."""
    limit = f" of {timeout:g} s" if timeout else ""
    return f"◌ database busy — waiting for another writer ({int(seconds)} s{limit})"


class WriteWaitBanner(Static):
    """Shown only while a write of this console waits for another process's lock."""

    DEFAULT_CSS = """
    WriteWaitBanner {
        display: none;
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $warning 30%;
        color: $foreground;
    }
    WriteWaitBanner.-waiting {
        display: block;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="write-wait")
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(TICK_S, self._tick, pause=True)
        self.watch(self.app, "write_wait_since", self._since_changed)

    def _since_changed(self, since: float | None) -> None:
        self.set_class(since is not None, "-waiting")
        if self._ticker is None:
            return
        if since is None:
            self._ticker.pause()
        else:
            self._tick()
            self._ticker.resume()

    def _tick(self) -> None:
        since: float | None = getattr(self.app, "write_wait_since", None)
        if since is None:
            return
        deck = getattr(self.app, "deck", None)
        timeout = getattr(deck, "timeout", None)
        self.update(styled(wait_text(time.monotonic() - since, timeout), "bold"))

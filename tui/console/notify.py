"""Told when needed: the console rings and notifies when a task enters Needs human.

Hooked where the console learns of new events (the app's refresh after a database change): a
worker reads the events past its own cursor (`agentdeck.core.alerts`) and each alert rings once.
The cursor starts at the newest event when the console opens, so tasks already waiting never
ring, and it only grows, so no event rings twice. Per batch of alerts: one terminal bell, one
desktop notification (a summary when several arrive at once) and a toast per alert (the first
few, then how many more).

The desktop notification goes where the terminal can show one: an OSC 9 string (iTerm2,
WezTerm, Windows Terminal, Ghostty, kitty) or an OSC 777 one (urxvt, foot, VTE terminals),
written to the real terminal through Textual's driver; otherwise `notify-send` when it is
installed and there is a display. Inside tmux or screen, and in a browser (`agentdeck serve`),
only the bell and the toast. What is written is injectable (`write`, `run`) so tests capture it.
Agent text is untrusted: every unsafe character (ESC, BEL, C1 controls...) is removed before
it reaches an escape string, so no text can end the OSC string early and smuggle another.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from agentdeck.core import alerts
from agentdeck.tui.console.single_flight import SingleFlight

if TYPE_CHECKING:
    from textual.app import App

    from agentdeck.core import Deck
    from agentdeck.core.alerts import Alert

Writer = Callable[[str], None]
Runner = Callable[[Sequence[str]], None]
TOASTS = 3  # per batch; the rest are counted in one more toast


def desktop_protocol(env: Mapping[str, str]) -> str | None:
    """ "osc9", "osc777" or None: the desktop-notification escape this terminal understands,
    judged from the environment it sets. Unknown terminals get none (nothing is printed)."""
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    if env.get("TMUX") or term.startswith(("screen", "tmux")):
        return None  # a multiplexer would need passthrough wrapping, and may not allow it
    if program in ("iTerm.app", "WezTerm", "ghostty", "kitty") or "WT_SESSION" in env:
        return "osc9"
    if term in ("xterm-kitty", "xterm-ghostty"):
        return "osc9"
    if term.startswith(("rxvt", "foot")) or "VTE_VERSION" in env:
        return "osc777"
    return None


def osc(protocol: str, title: str, body: str) -> str:
    """The escape string for a desktop notification; title and body already one safe line."""
    title, body = alerts.one_line(title, 80), alerts.one_line(body)
    if protocol == "osc9":
        return f"\x1b]9;{title}: {body}\x07"
    return f"\x1b]777;notify;{title.replace(';', ',')};{body}\x07"


def _run_quietly(argv: Sequence[str]) -> None:
    """Run `notify-send`; a desktop notification is best effort, so failures are ignored."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(list(argv), capture_output=True, timeout=5, check=False)


class NeedsHumanNotifier:
    """Rings and notifies for each new Needs-human event of the board the console shows."""

    def __init__(
        self, app: App[None], *, enabled: bool = True, env: Mapping[str, str] | None = None
    ) -> None:
        env = os.environ if env is None else env
        self.app = app
        self.enabled = enabled
        self.cursor = -1  # -1: not started; nothing before the opening cursor ever rings
        self.protocol = desktop_protocol(env)
        has_display = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
        self.notify_send = shutil.which("notify-send") if has_display else None
        self.write: Writer = self._to_terminal
        self.run: Runner = _run_quietly
        self._flight = SingleFlight()

    def start(self, cursor: int) -> None:
        """Begin after event `cursor` (the newest when the console opened)."""
        self.cursor = max(self.cursor, cursor)

    def check(self) -> None:
        """Look for new alerts in a worker; at most one look runs, one more is queued."""
        if self.cursor >= 0 and self._flight.start():
            self.app.run_worker(
                self._load, thread=True, group="notify", exclusive=False, exit_on_error=False
            )

    def _load(self) -> None:
        deck: Deck = self.app.deck  # type: ignore[attr-defined]
        board: str = self.app.board_key  # type: ignore[attr-defined]
        cursor, found = self.cursor, []
        try:
            for event_id, alert in alerts.alerts_after(deck, cursor, board):
                cursor = event_id
                if alert is not None:
                    found.append(alert)
        finally:
            self.app.call_from_thread(self._loaded, cursor, found)

    def _loaded(self, cursor: int, found: list[Alert]) -> None:
        fresh = [a for a in found if a.event_id > self.cursor]
        self.cursor = max(self.cursor, cursor)
        if fresh and self.enabled:
            self.ring(fresh)
        if self._flight.finish():
            self.check()

    def ring(self, batch: Sequence[Alert]) -> None:
        """Tell the human about `batch` once: bell, desktop notification, toasts."""
        self.write("\a")
        title = "agentdeck: needs a human"
        body = (
            f"{batch[0].headline}: {batch[0].text}"
            if len(batch) == 1
            else f"{len(batch)} tasks: " + ", ".join(a.headline for a in batch[:6])
        )
        on_web = self.app.is_web
        if self.protocol is not None and not on_web:
            self.write(osc(self.protocol, title, body))
        elif self.notify_send and not on_web:
            argv = [self.notify_send, "--app-name=agentdeck", "--", title, alerts.one_line(body)]
            self.app.run_worker(
                lambda: self.run(argv), thread=True, group="notify-send", exit_on_error=False
            )
        for alert in batch[:TOASTS]:
            self.app.notify(
                alert.text or alert.headline,
                title=alert.headline,
                severity="warning" if alert.urgent else "information",
                markup=False,
                timeout=12,
            )
        if len(batch) > TOASTS:
            self.app.notify(
                f"and {len(batch) - TOASTS} more in Needs human", title="Needs human", markup=False
            )

    def _to_terminal(self, text: str) -> None:
        """Write to the real terminal through Textual's driver (nothing when headless)."""
        driver = self.app._driver
        if driver is not None and not self.app.is_headless:
            driver.write(text)

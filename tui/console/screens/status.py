"""Screens shown instead of the board: while the database opens, and when it cannot be used."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle, Vertical
from textual.screen import Screen
from textual.widgets import Static

from agentdeck.tui.console.agent_text import safe
from agentdeck.tui.console.widgets.footer import KeyFooter


class StartScreen(Screen[None]):
    """A quiet placeholder while the deck opens in a worker."""

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(Text("◆ agentdeck  opening the board…", style="bold"), id="start-message")


class ProblemScreen(Screen[None]):
    """A database that cannot be used: one clear message instead of a traceback."""

    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(classes="problem-screen")
        self.problem = problem
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Middle(), Center(), Vertical(id="problem-box"):
            yield Static(Text("agentdeck cannot show this board", style="bold"), id="problem-title")
            yield Static(safe(self.problem), id="problem-text")
            if self.hint:
                yield Static(safe(self.hint, "dim"), id="problem-hint")
        yield KeyFooter()

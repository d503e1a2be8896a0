"""The board's charts panel: what it reads, and when it reloads.

The panel shows the burn-down, the cost over time, the budgets' gauges (the board's, and the
selected task's agent's) and the roster. Its data are aggregates (the flow rollup, grouped
sums), never the board's history, read in one thread worker. A live board changes many times
a second, so after live changes the panel reloads at most every PANELS_INTERVAL_S, and never
two reads at once: a reload asked for while one runs follows it. The screen owns the worker
and the widgets; `ChartsReload` only decides when, kept apart so the board screen stays about
its columns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from agentdeck.core import Deck
from agentdeck.core.models import BurnDown, CostSeries
from agentdeck.tui.console.widgets.budget_gauges import BudgetView

if TYPE_CHECKING:
    from agentdeck.tui.console.screens.board import BoardScreen

PANELS_INTERVAL_S = 2.0


@dataclass(frozen=True)
class ChartsData:
    """Data for the charts panel: burn-down, cost over time, budgets, usage of the board and
    one agent."""

    burndown: BurnDown
    budgets: BudgetView
    cost: CostSeries


def read_charts(deck: Deck, board: str, agent: str | None) -> ChartsData:
    """Read what the charts panel shows, `agent`'s budgets and usage beside the board's."""
    budgets = deck.budget_status(board)
    sources = deck.usage_by_source(board)
    view = BudgetView(
        board_budgets=tuple(b for b in budgets if b.scope == "board"),
        board_usage=deck.usage_totals(board),
        agent=agent,
        agent_budgets=tuple(b for b in budgets if b.scope == "agent" and b.subject == agent),
        agent_usage=deck.usage_totals(board, agent=agent) if agent else None,
        measured=sources.get("measured"),
        reported=sources.get("reported"),
        refused=sum(deck.refusals().values()),
    )
    return ChartsData(deck.burndown(board), view, deck.cost_over_time(board))


class ChartsReload:
    """When the board screen's charts panel reloads (its `load_panels` worker starts)."""

    def __init__(self, screen: BoardScreen) -> None:
        self.screen = screen
        self._again = False  # a reload was asked for while one ran
        self._timer: Timer | None = None
        self._loaded_at = 0.0

    def soon(self) -> None:
        """Reload the charts after live changes at most every PANELS_INTERVAL_S: the burn-down
        replays the board's history, which is not worth doing ten times a second."""
        if self._timer is not None:
            return
        wait = self._loaded_at + PANELS_INTERVAL_S - time.monotonic()
        if wait <= 0:
            # Now, not with a zero-second timer: Textual's timer divides by its interval.
            self.now()
            return
        self._timer = self.screen.set_timer(wait, self._due)

    def _due(self) -> None:
        self._timer = None
        if self.screen.charts:
            self.now()

    def now(self) -> None:
        """Reload the charts for the selected task's agent, after the read under way if any."""
        screen = self.screen
        if any(w.group == "panels" and w.is_running for w in screen.workers):
            self._again = True
            return
        self._loaded_at = time.monotonic()
        task = screen.selected_task()
        screen.load_panels(screen.deck, screen.board_key, task.assignee if task else None)

    def worker_ended(self, worker: Any) -> None:
        """Start the reload asked for while the read that just ended ran."""
        if worker.group == "panels" and self._again:
            self._again = False
            self.now()

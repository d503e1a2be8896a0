"""Budget gauges: tokens, cost, CPU and GPU hours used against their limits.

A gauge is green below the soft limit, amber past it and red past the hard limit; a tick in
the bar marks the soft limit. The board's gauges come first, then the selected agent's.
Under the board's, when the agents' runtimes send telemetry: how much of the usage was
measured (and the agents' own reports beside it), and requests the receiver refused today.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from agentdeck.core.models import METRICS, BudgetStatus, UsageTotals
from agentdeck.tui.console.agent_text import line, styled

LABELS = {"tokens": "tokens", "cost_usd": "cost", "cpu_hours": "CPU h", "gpu_hours": "GPU h"}
LEVEL_STYLES = {"ok": "green", "warn": "dark_orange", "over": "bold red"}


@dataclass(frozen=True)
class BudgetView:
    """What the gauges show: limits and usage for the board and, optionally, one agent."""

    board_budgets: tuple[BudgetStatus, ...] = ()
    board_usage: UsageTotals = field(default_factory=UsageTotals)
    agent: str | None = None
    agent_budgets: tuple[BudgetStatus, ...] = ()
    agent_usage: UsageTotals | None = None
    measured: UsageTotals | None = None  # the board's measured usage, None when there is none
    reported: UsageTotals | None = None  # what the agents reported, beside it
    refused: int = 0  # requests the telemetry receiver refused today


def usage_of(usage: UsageTotals, metric: str) -> float:
    return {
        "tokens": float(usage.tokens),
        "cost_usd": usage.cost_usd,
        "cpu_hours": usage.cpu_seconds / 3600,
        "gpu_hours": usage.gpu_seconds / 3600,
    }[metric]


def amount(metric: str, value: float) -> str:
    """A compact amount in the metric's unit: 1.2M, $42.10, 3.5 h."""
    if metric == "tokens":
        for unit, size in (("M", 1e6), ("k", 1e3)):
            if value >= size:
                return f"{value / size:.1f}{unit}"
        return f"{value:.0f}"
    if metric == "cost_usd":
        return f"${value:,.0f}" if value >= 1000 else f"${value:.2f}"
    return f"{value:.1f} h"


def gauge(metric: str, used: float, budget: BudgetStatus | None, width: int) -> Text:
    """One row: label, bar, used / limit."""
    row = Text(no_wrap=True)
    row.append(f" {LABELS[metric]:<7}", style="bold")
    limit = None
    if budget is not None:
        limit = budget.hard if budget.hard is not None else budget.soft
    level = budget.level if budget is not None else "ok"
    value = amount(metric, used) + (f" / {amount(metric, limit)}" if limit else "")
    bar_width = max(4, width - 8 - len(value) - 2)
    if limit:
        filled = min(bar_width, round(bar_width * used / limit))
        soft_at = None
        if budget is not None and budget.soft is not None and budget.hard:
            soft_at = min(bar_width - 1, round(bar_width * budget.soft / budget.hard))
        for i in range(bar_width):
            if i == soft_at and i >= filled:
                row.append("┃", style="dark_orange")
            elif i < filled:
                row.append("█", style=LEVEL_STYLES[level])
            else:
                row.append("░", style="grey35")
    else:
        row.append(("no limit").center(bar_width, "·"), style="grey35")
    row.append(" ")
    row.append(value, style=LEVEL_STYLES[level] if limit else "")
    return row


class BudgetGauges(Widget):
    """Renders a `BudgetView`; set `view` to redraw."""

    view: reactive[BudgetView] = reactive(BudgetView, always_update=True)

    def render(self) -> RenderResult:
        width = self.content_size.width or 40
        view = self.view
        rows: list[Text] = [Text(" Board", style="bold underline")]
        budgets = {b.metric: b for b in view.board_budgets}
        for metric in METRICS:
            rows.append(
                gauge(metric, usage_of(view.board_usage, metric), budgets.get(metric), width)
            )
        if view.measured is not None:  # two rows, aligned with the gauges' labels
            said = view.reported or UsageTotals()
            for label, usage, style in (
                ("measured", view.measured, ""),
                ("reported", said, "grey50"),
            ):
                rows.append(
                    Text.assemble(
                        (f" {label:<9}", style or "bold"),
                        (
                            f"{amount('tokens', usage.tokens)} tok · "
                            f"{amount('cost_usd', usage.cost_usd)}",
                            style,
                        ),
                        no_wrap=True,
                        overflow="ellipsis",
                    )
                )
        if view.refused:
            rows.append(
                Text(
                    f" telemetry refused today: {view.refused}",
                    style="bold red",
                    no_wrap=True,
                    overflow="ellipsis",
                )
            )
        if view.agent is not None:
            title = styled(" Agent ", "bold underline")
            title.append_text(line(view.agent, "bold underline"))
            rows.append(title)
            agent_budgets = {b.metric: b for b in view.agent_budgets}
            usage = view.agent_usage or UsageTotals()
            for metric in METRICS:
                if metric in agent_budgets or usage_of(usage, metric):
                    rows.append(
                        gauge(metric, usage_of(usage, metric), agent_budgets.get(metric), width)
                    )
        return Text("\n").join(rows)

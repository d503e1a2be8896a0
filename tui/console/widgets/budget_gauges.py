"""Budget gauges: tokens, cost, CPU and GPU hours used against their limits.

A gauge is green below the soft limit, amber past it and red past the hard limit. Every bar is
the same length (the figures take one column as wide as the widest), runs from nothing to the
hard limit (its end mark, ▕) and marks the soft limit inside (┊); a legend line says so. The
figure beside it says how much of the limit is used, in words. The board's gauges come first, then the selected agent's.
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


SOFT_MARK = "┊"  # where the soft limit sits on the bar
HARD_MARK = "▕"  # the bar's end: the hard limit
LABEL_WIDTH = 8


def figure(metric: str, used: float, budget: BudgetStatus | None, *, short: bool) -> str:
    """The current figure in words: `7.4M of 15.0M (49%)`, or `7.4M/15.0M 49%` when `short`;
    just the amount when there is no limit."""
    limit = _limit(budget)
    if not limit:
        return amount(metric, used)
    share = f"{100 * used / limit:.0f}%"
    if short:
        return f"{amount(metric, used)}/{amount(metric, limit)} {share}"
    return f"{amount(metric, used)} of {amount(metric, limit)} ({share})"


def _limit(budget: BudgetStatus | None) -> float | None:
    if budget is None:
        return None
    return budget.hard if budget.hard is not None else budget.soft


def bar(used: float, budget: BudgetStatus | None, width: int) -> Text:
    """A bar of exactly `width` cells: filled to `used` over the hard limit (or the soft one
    when there is no hard), the soft limit marked inside and the hard limit as its end."""
    out = Text(no_wrap=True)
    limit = _limit(budget)
    if budget is None or not limit:
        out.append(" no limit ".center(width, "·")[:width], style="grey35")
        return out
    cells = width - 1  # the last cell is the end mark
    filled = min(cells, round(cells * used / limit))
    soft_at = None
    if budget.soft is not None and budget.hard:
        soft_at = min(cells - 1, round(cells * budget.soft / budget.hard))
    style = LEVEL_STYLES[budget.level]
    for i in range(cells):
        if i == soft_at:
            out.append(SOFT_MARK, style="bold yellow" if i >= filled else "bold yellow reverse")
        elif i < filled:
            out.append("█", style=style)
        else:
            out.append("░", style="grey35")
    out.append(HARD_MARK if budget.hard else " ", style="bold red" if budget.hard else "")
    return out


def gauge(metric: str, used: float, budget: BudgetStatus | None, width: int) -> Text:
    """One gauge alone: label, bar, the figure (see `gauge_rows` for gauges of one width)."""
    return Text("\n").join(gauge_rows([(metric, used, budget)], width))


MIN_BAR = 16  # below this, a gauge's figure goes on the line above its bar


def gauge_rows(
    rows: list[tuple[str, float, BudgetStatus | None]], width: int, *, compact: bool = False
) -> list[Text]:
    """One line per gauge: label, bar, figure, where the figures take one column as wide as
    the widest, so every bar is the same length. When that leaves the bars under `MIN_BAR`
    cells, a gauge with a limit takes two lines (label and figure, then a bar the full
    width) and one without a limit one line (label, figure, "no limit"): still one length.
    `compact` keeps every gauge on one line (short figures) for a panel too short for that."""
    figures = [figure(m, u, b, short=compact) for m, u, b in rows]
    figure_width = max((len(f) for f in figures), default=0)
    bar_width = width - LABEL_WIDTH - figure_width - 1
    out = []
    for (metric, used, budget), words in zip(rows, figures, strict=True):
        level = budget.level if budget is not None and _limit(budget) else None
        style = LEVEL_STYLES[level] if level else ""
        label = f" {LABELS[metric]:<{LABEL_WIDTH - 1}}"
        row = Text(no_wrap=True, overflow="ellipsis")
        row.append(label, style="bold")
        if bar_width >= MIN_BAR or compact:
            row.append_text(bar(used, budget, max(4, bar_width)))
            row.append(" " + words.rjust(figure_width), style=style)
        elif level is None:
            row.append(words, style=style)
            row.append(" · no limit", style="grey50")
        else:
            room = max(0, width - LABEL_WIDTH)
            if any(len(f) > room for f in figures):  # one form for every gauge
                words = figure(metric, used, budget, short=True)
            row.append(words.rjust(room), style=style)
            row.append("\n ")
            row.append_text(bar(used, budget, max(4, width - 1)))
        out.append(row)
    return out


def marks_legend(budgets: list[BudgetStatus]) -> Text:
    """What the marks on the bars mean, with the soft limit's share of the hard when every
    bar's is the same (`┊ soft 80%  ▕ hard`)."""
    shares = {round(100 * b.soft / b.hard) for b in budgets if b.soft is not None and b.hard}
    soft = f"soft {shares.pop()}%" if len(shares) == 1 else "soft"
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f" {SOFT_MARK} ", style="bold yellow")
    out.append(f"{soft}: warns  ", style="dim")
    out.append(f"{HARD_MARK} ", style="bold red")
    out.append("hard: stops", style="dim")
    return out


class BudgetGauges(Widget):
    """Renders a `BudgetView`; set `view` to redraw."""

    DEFAULT_CSS = """
    BudgetGauges { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    view: reactive[BudgetView] = reactive(BudgetView, always_update=True)

    def render(self) -> RenderResult:
        width = self.content_size.width or 40
        view = self.view
        rows: list[Text] = [Text(" Board", style="bold underline")]
        budgets = {b.metric: b for b in view.board_budgets}
        agent_budgets = {b.metric: b for b in view.agent_budgets}
        agent_usage = view.agent_usage or UsageTotals()
        board_rows = [(m, usage_of(view.board_usage, m), budgets.get(m)) for m in METRICS]
        agent_rows = [
            (m, usage_of(agent_usage, m), agent_budgets.get(m))
            for m in METRICS
            if m in agent_budgets or usage_of(agent_usage, m)
        ]
        # Laid out together, so the board's and the agent's bars are all one length; on one
        # line each when two would not fit the panel's height.
        gauges = board_rows + (agent_rows if view.agent else [])
        laid = gauge_rows(gauges, width)
        extra = 2 + (2 if view.measured is not None else 0) + bool(view.refused) + bool(view.agent)
        height = self.content_size.height or 100
        if sum(r.plain.count("\n") + 1 for r in laid) + extra > height:
            laid = gauge_rows(gauges, width, compact=True)
        rows += laid[: len(board_rows)]
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
            rows += laid[len(board_rows) :]
        shown = [b for _, _, b in board_rows + agent_rows if b is not None]
        if any(b.hard or b.soft for b in shown):
            rows.append(marks_legend(shown))
        out = Text("\n").join(rows)
        out.no_wrap = True
        out.overflow = "ellipsis"
        return out

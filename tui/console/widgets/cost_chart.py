"""Cost over time per agent: a stacked bar per hour or day (as `core` bucketed it), the
biggest spenders each in their own colour, with a caption naming each and its total.

`core` sums the usage table (`Deck.cost_over_time()`); this widget only declares the plot.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual_plotext import PlotextPlot

from agentdeck.core.models import CostSeries
from agentdeck.tui.console.widgets.burndown import Caption

PALETTE = (
    (125, 207, 255),
    (187, 154, 247),
    (158, 206, 106),
    (224, 175, 104),
    (247, 118, 142),
    (115, 218, 202),
    (120, 124, 153),  # "others" (the last line when there are more spenders than colours)
)


def colour(index: int, name: str) -> tuple[int, int, int]:
    return PALETTE[-1] if name == "others" else PALETTE[index % (len(PALETTE) - 1)]


def hex_of(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def dollars(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:.2f}"


def bucket_words(seconds: int) -> str:
    """`per hour`, `per 6 h`, `per day`, `per 2 days`, `per week` (short: it is a title)."""
    if seconds % (7 * 86400) == 0 and seconds // (7 * 86400) == 1:
        return "per week"
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "per day" if days == 1 else f"per {days} days"
    hours = seconds // 3600
    return "per hour" if hours == 1 else f"per {hours} h"


def label_positions(count: int, wanted: int) -> list[int]:
    """Up to `wanted` bucket indexes, evenly spread, the first and the last among them."""
    if count <= 0:
        return []
    if count <= wanted:
        return list(range(count))
    return sorted({round(i * (count - 1) / max(wanted - 1, 1)) for i in range(wanted)})


def legend(series: CostSeries | None) -> tuple[Text, ...]:
    """Each spender's colour, name and total."""
    if series is None or not series.lines:
        return ()
    entries = []
    for i, line in enumerate(series.lines):
        entry = Text(no_wrap=True)
        entry.append("■ ", style=hex_of(colour(i, line.name)))
        entry.append(f"{line.name} ")
        entry.append(dollars(line.total), style="dim")
        entries.append(entry)
    return tuple(entries)


def title(series: CostSeries | None) -> str:
    """The panel's title: what is charted, the total and the bucket."""
    if series is None or not series.lines:
        return "Cost"
    return f"Cost {bucket_words(series.bucket_seconds)} · {dollars(series.total)}"


def nice_step(top: float, count: int = 3) -> float:
    """A round step (1, 2 or 5 times a power of ten) so `count` steps cover `top`."""
    raw = max(top, 1e-9) / count
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class CostChart(PlotextPlot):
    """Plots a `CostSeries` as stacked bars; set `series` to redraw."""

    DEFAULT_CSS = """
    CostChart { height: 1fr; }
    """

    series: reactive[CostSeries | None] = reactive(None)

    def watch_series(self, series: CostSeries | None) -> None:
        panel = self.parent
        if isinstance(panel, CostPanel):
            panel.border_title = title(series)
            shown = panel.query_one(Caption)
            shown.entries = legend(series)
            shown.note = Text("") if series and series.lines else Text("no usage yet", "dim")

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = self.series
        if series is None or not series.lines or series.total <= 0:
            plt.title("no cost recorded yet")
            return super().render()
        plt.xaxes(True, False)
        plt.yaxes(True, False)
        count = len(series.starts)
        xs = list(range(count))
        plt.stacked_bar(
            xs,
            [list(line.costs) for line in series.lines],
            color=[colour(i, line.name) for i, line in enumerate(series.lines)],  # type: ignore[arg-type]
            width=0.8 if count > 1 else 0.3,
        )
        tallest = max(
            sum(line.costs[i] for line in series.lines) for i in range(count)
        )  # the highest stack
        step = nice_step(tallest)
        top = step * math.ceil(tallest / step)
        plt.ylim(0, top)
        marks = [step * i for i in range(round(top / step) + 1)]
        plt.yticks(marks, [f"${m:g}" for m in marks])
        # Clock times only while the whole chart is within two days; past that two ticks
        # could both read "09:00", so dates.
        fmt = "%H:%M" if series.bucket_seconds * count < 2 * 86400 else "%d %b"
        wanted = max(2, min(5, (self.size.width - 8) // 9))
        shown = label_positions(count, wanted)
        plt.xticks([float(i) for i in shown], [series.starts[i].strftime(fmt) for i in shown])
        plt.xlim(-0.6, count - 0.4)
        return super().render()


class CostPanel(Vertical):
    """The bordered panel: the cost chart over its caption."""

    def compose(self) -> ComposeResult:
        yield CostChart(id="cost-chart")
        yield Caption()

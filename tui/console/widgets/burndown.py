"""The burn-down chart: open tasks over time, scope, the ideal line and the forecast.

`core` computes the series (`Deck.burndown()`); this widget only declares the plot.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget
from textual_plotext import PlotextPlot

from agentdeck.core.models import BurnDown, BurnDownPoint


def _ticks(start: datetime, end: datetime, count: int = 4) -> tuple[list[float], list[str]]:
    span_days = max((end - start).total_seconds() / 86400, 1e-6)
    fmt = "%H:%M" if span_days < 1.5 else "%d %b"
    positions = [span_days * i / count for i in range(count + 1)]
    labels = [
        (start.fromtimestamp(start.timestamp() + p * 86400, start.tzinfo)).strftime(fmt)
        for p in positions
    ]
    return positions, labels


OPEN = (125, 207, 255)
SCOPE = (115, 122, 162)
IDEAL = (158, 206, 106)
FORECAST = (224, 175, 104)
LEGEND = "[#7dcfff]━ open[/] [#737aa2]━ scope[/] [#9ece6a]━ ideal[/] [#e0af68]━ forecast[/]"


class BurnDownChart(PlotextPlot):
    """Plots a `BurnDown`; set `burndown` to redraw."""

    burndown: reactive[BurnDown | None] = reactive(None)

    def watch_burndown(self, burndown: BurnDown | None) -> None:
        panel = self.parent
        if burndown is None or not isinstance(panel, Widget):
            return
        parts = ["Burn-down"]
        if burndown.due_at is not None:
            parts.append(f"due {burndown.due_at:%d %b}")
        if burndown.forecast_done_at is not None:
            parts.append(f"ETA {burndown.forecast_done_at:%d %b}")
        elif burndown.forecast_note:
            parts.append("no forecast yet")
        panel.border_title = " · ".join(parts)
        panel.border_subtitle = LEGEND

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        burndown = self.burndown
        if burndown is None or not burndown.points:
            plt.title("no history yet")
            return super().render()
        points = burndown.points
        start = points[0].at
        ends = [points[-1].at, *(p.at for p in burndown.ideal), *(p.at for p in burndown.forecast)]
        end = max(ends)

        def xs(series: tuple[BurnDownPoint, ...]) -> list[float]:
            return [(p.at - start).total_seconds() / 86400 for p in series]

        top = max(p.scope for p in points)
        plt.plot(xs(points), [p.scope for p in points], color=SCOPE, marker="braille")
        if burndown.ideal:
            ideal = burndown.ideal
            plt.plot(xs(ideal), [p.open for p in ideal], color=IDEAL, marker="braille")
        if burndown.forecast:
            forecast = burndown.forecast
            plt.plot(xs(forecast), [p.open for p in forecast], color=FORECAST, marker="braille")
        plt.plot(xs(points), [p.open for p in points], color=OPEN, marker="braille")
        ceiling = max(1, int(top * 1.15) + 1)
        plt.ylim(0, ceiling)
        step = max(1, ceiling // 4)
        plt.yticks(list(range(0, ceiling + 1, step)))
        positions, labels = _ticks(start, end)
        plt.xticks(positions, labels)
        plt.xlim(0, positions[-1])
        return super().render()

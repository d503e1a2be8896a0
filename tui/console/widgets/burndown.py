"""The burn-down chart: open tasks and scope as solid step lines, the ideal line, today's
marker and the forecast with its range, all clipped to the frame.

`core` computes the series (`Deck.burndown()`); `burn_chart` turns them into what is drawn
(pure, so the clipping and the minimum span are tested without a terminal), and the widget
declares the plot. A caption under it says what the forecast is, or why there is none yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget
from textual_plotext import PlotextPlot

from agentdeck.core.models import BurnDown, BurnDownPoint

OPEN = (125, 207, 255)
SCOPE = (187, 154, 247)
IDEAL = (158, 206, 106)
FORECAST = (224, 175, 104)
RANGE = (176, 136, 80)
TODAY = (86, 95, 137)
HEX = {
    name: "#{:02x}{:02x}{:02x}".format(*rgb)
    for name, rgb in (
        ("OPEN", OPEN),
        ("SCOPE", SCOPE),
        ("IDEAL", IDEAL),
        ("FORECAST", FORECAST),
        ("RANGE", RANGE),
        ("TODAY", TODAY),
    )
}

# However young the board, the x axis spans at least this: two tasks finished in one minute
# are two steps on a readable chart, not a single vertical line.
MIN_SPAN = timedelta(minutes=10)
# How far past today the axis may reach, in multiples of the history shown (at least
# MIN_SPAN): a due date or a forecast years out is clipped at the frame, not squashing the past.
FUTURE_FACTOR = 2.0
DAY_S = 86400.0

Series = tuple[list[float], list[float]]


@dataclass
class BurnChart:
    """What the burn-down draws: x in days since `start`, every line inside [0, x_max] and
    [0, y_max]."""

    start: datetime
    x_max: float
    y_max: int
    today: float
    open: Series
    scope: Series
    ideal: Series = field(default_factory=lambda: ([], []))
    forecast: Series = field(default_factory=lambda: ([], []))
    early: Series = field(default_factory=lambda: ([], []))
    late: Series = field(default_factory=lambda: ([], []))


def _days(start: datetime, at: datetime) -> float:
    return (at - start).total_seconds() / DAY_S


def steps(points: Sequence[BurnDownPoint], start: datetime, which: str) -> Series:
    """A step line through the points: each value holds until the next point's time, then
    changes straight up or down (a count of tasks changes at once, it never slopes)."""
    xs: list[float] = []
    ys: list[float] = []
    for point in points:
        x, y = _days(start, point.at), float(getattr(point, which))
        if ys and ys[-1] != y:
            xs.append(x)
            ys.append(ys[-1])
        xs.append(x)
        ys.append(y)
    return xs, ys


def clip(xs: Sequence[float], ys: Sequence[float], x_max: float) -> Series:
    """The part of a polyline with 0 <= x <= x_max, cut where it crosses the edges (by linear
    interpolation), so nothing is drawn past the frame."""
    out_x: list[float] = []
    out_y: list[float] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if i:
            px, py = xs[i - 1], ys[i - 1]
            for edge in (0.0, x_max):
                if (px - edge) * (x - edge) < 0:  # the segment crosses this edge
                    out_x.append(edge)
                    out_y.append(py + (y - py) * (edge - px) / (x - px))
        if 0.0 <= x <= x_max:
            out_x.append(x)
            out_y.append(y)
    order = sorted(range(len(out_x)), key=lambda k: out_x[k])
    return [out_x[k] for k in order], [out_y[k] for k in order]


def burn_chart(burndown: BurnDown) -> BurnChart | None:
    """The lines to draw for a burn-down, or None when it has no history."""
    points = burndown.points
    if not points:
        return None
    start, today = points[0].at, points[-1].at
    past = max(today - start, MIN_SPAN)
    horizon = today + past * FUTURE_FACTOR
    end = max(today, start + MIN_SPAN)
    shows_forecast = bool(burndown.forecast) and not burndown.forecast_note
    reach = [burndown.due_at]
    if shows_forecast:
        reach += [burndown.forecast_done_at, burndown.forecast_early, burndown.forecast_late]
    for at in reach:
        if at is not None:
            end = max(end, min(at, horizon))
    x_max = _days(start, end)
    top = max(max(p.scope for p in points), max((p.open for p in burndown.ideal), default=0))
    chart = BurnChart(
        start=start,
        x_max=x_max,
        y_max=max(2, round(top * 1.12 + 0.5)),
        today=_days(start, today),
        open=steps(points, start, "open"),
        scope=steps(points, start, "scope"),
    )
    if len(burndown.ideal) >= 2:
        ideal = burndown.ideal
        chart.ideal = clip([_days(start, p.at) for p in ideal], [p.open for p in ideal], x_max)
    if shows_forecast:
        now, remaining = chart.today, float(points[-1].open)

        def toward(at: datetime | None) -> Series:
            if at is None:  # at the slowest likely rate nothing finishes: a flat line
                return clip([now, x_max], [remaining, remaining], x_max)
            return clip([now, _days(start, at)], [remaining, 0.0], x_max)

        chart.forecast = toward(burndown.forecast_done_at)
        chart.early = toward(burndown.forecast_early)
        chart.late = toward(burndown.forecast_late)
    return chart


def ticks(start: datetime, x_max: float, count: int) -> tuple[list[float], list[str]]:
    """`count` + 1 evenly spaced x ticks (days since `start`) and their labels: clock times
    for a chart under two days, dates otherwise."""
    span = max(x_max, 1e-9)
    fmt = "%H:%M" if span < 2 else "%d %b"
    positions = [span * i / count for i in range(count + 1)]
    labels = [(start + timedelta(days=p)).strftime(fmt) for p in positions]
    return positions, labels


def pack(entries: Sequence[Text], width: int) -> Text:
    """Legend entries on as few lines as fit `width`, an entry never split across lines."""
    out = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for entry in entries:
        size = entry.cell_len
        if used and used + 1 + size > width:
            out.append("\n")
            used = 0
        elif used:
            out.append(" ")
            used += 1
        out.append_text(entry)
        used += size
    return out


class Caption(Widget):
    """A chart's caption: its legend entries packed to the width, then a note in words."""

    DEFAULT_CSS = """
    Caption { height: auto; max-height: 4; padding: 0 1; }
    """

    entries: reactive[tuple[Text, ...]] = reactive((), layout=True)
    note: reactive[Text] = reactive(Text, layout=True)

    def render(self) -> RenderResult:
        legend = pack(self.entries, self.content_size.width or 40)
        note = self.note.copy()
        note.no_wrap = False
        return Text("\n").join([legend, note]) if note.plain else legend

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        legend = pack(self.entries, width).plain.count("\n") + 1 if self.entries else 0
        note = len(self.note.wrap(self.app.console, max(width, 1))) if self.note.plain else 0
        return legend + note


def _entry(mark: str, colour: str, label: str) -> Text:
    entry = Text(no_wrap=True)
    entry.append(mark + " ", style=colour)
    entry.append(label)
    return entry


def legend(burndown: BurnDown | None) -> tuple[Text, ...]:
    """The legend: only what is drawn."""
    if burndown is None or not burndown.points:
        return ()
    entries = [_entry("━", HEX["OPEN"], "open"), _entry("━", HEX["SCOPE"], "scope")]
    if burndown.ideal:
        entries.append(_entry("┄", HEX["IDEAL"], "ideal"))
    if burndown.forecast and not burndown.forecast_note:
        entries.append(_entry("━", HEX["FORECAST"], "forecast"))
        entries.append(_entry("┄", HEX["RANGE"], "range"))
    entries.append(_entry("│", HEX["TODAY"], "now"))
    return tuple(entries)


def forecast_words(burndown: BurnDown | None) -> Text:
    """The forecast and its range in words, or why there is no forecast yet."""
    text = Text()
    if burndown is None or not burndown.points:
        return text
    if burndown.forecast and not burndown.forecast_note and burndown.forecast_done_at:
        text.append(f"done ~{burndown.forecast_done_at:%d %b}", style=HEX["FORECAST"])
        early, late = burndown.forecast_early, burndown.forecast_late
        if early is not None:
            until = f"{late:%d %b}" if late is not None else "open-ended"
            text.append(" · range ", style="dim")
            text.append(f"{early:%d %b} to {until}", style=HEX["RANGE"])
    elif burndown.forecast_note:
        text.append(burndown.forecast_note, style="dim italic")
    elif burndown.forecast_done_at is not None:
        text.append(f"all done {burndown.forecast_done_at:%d %b %H:%M}", style=HEX["IDEAL"])
    return text


class BurnDownChart(PlotextPlot):
    """Plots a `BurnDown`; set `burndown` to redraw."""

    DEFAULT_CSS = """
    BurnDownChart { height: 1fr; }
    """

    burndown: reactive[BurnDown | None] = reactive(None)

    def watch_burndown(self, burndown: BurnDown | None) -> None:
        panel = self.parent
        if burndown is None or not isinstance(panel, BurnDownPanel):
            return
        parts = ["Burn-down"]
        if burndown.due_at is not None:
            parts.append(f"due {burndown.due_at:%d %b}")
        if burndown.forecast_note:
            parts.append("no forecast yet")
        panel.border_title = " · ".join(parts)
        shown = panel.query_one(Caption)
        shown.entries = legend(burndown)
        shown.note = forecast_words(burndown)

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        burndown = self.burndown
        chart = burn_chart(burndown) if burndown is not None else None
        if chart is None:
            plt.title("no history yet")
            return super().render()
        plt.xaxes(True, False)  # no top or right rule: the panel's border closes the chart
        plt.yaxes(True, False)
        plt.vline(chart.today, color=TODAY)
        for series, colour, marker in (
            (chart.late, RANGE, "braille"),
            (chart.early, RANGE, "braille"),
            (chart.ideal, IDEAL, "braille"),
            (chart.forecast, FORECAST, "hd"),
            (chart.scope, SCOPE, "hd"),
            (chart.open, OPEN, "hd"),
        ):
            if len(series[0]) >= 2:
                plt.plot(*series, color=colour, marker=marker)
        plt.ylim(0, chart.y_max)
        step = max(1, -(-chart.y_max // 4))
        plt.yticks(list(range(0, chart.y_max + 1, step)))
        count = max(1, min(5, (self.size.width - 6) // 10))
        positions, labels = ticks(chart.start, chart.x_max, count)
        plt.xticks(positions, labels)
        plt.xlim(0, chart.x_max)
        return super().render()


class BurnDownPanel(Vertical):
    """The bordered panel: the chart over its caption (legend and forecast in words)."""

    def compose(self) -> ComposeResult:
        yield BurnDownChart(id="burndown")
        yield Caption()

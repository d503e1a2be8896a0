"""The charts: the burn-down's lines (steps, clipping, span, forecast only with history), the
cost chart's legend, budget gauges of one width and titles cut with an ellipsis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from agentdeck.core.models import (
    Agent,
    BudgetStatus,
    BurnDown,
    BurnDownPoint,
    UsageTotals,
)
from agentdeck.tui.console.widgets.budget_gauges import (
    HARD_MARK,
    MIN_BAR,
    BudgetGauges,
    BudgetView,
    gauge_rows,
)
from agentdeck.tui.console.widgets.burndown import (
    MIN_SPAN,
    burn_chart,
    clip,
    forecast_words,
    legend,
    pack,
    steps,
)
from agentdeck.tui.console.widgets.roster import AgentRoster

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 5, 5, 9, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def point(days: float, open_: int, scope: int) -> BurnDownPoint:
    return BurnDownPoint(at(days), open_, scope)


HISTORY = (
    point(0, 10, 10),
    point(1, 8, 10),
    point(2, 14, 16),  # scope grew by six
    point(3, 12, 16),
    point(4, 12, 16),  # now
)


def burn(**fields: object) -> BurnDown:
    base: dict[str, object] = {
        "points": HISTORY,
        "ideal": (point(0, 10, 10), point(10, 0, 16)),
        "forecast": (HISTORY[-1], point(8, 0, 16)),
        "due_at": at(10),
        "forecast_done_at": at(8),
        "throughput_per_day": 3.0,
        "forecast_early": at(6),
        "forecast_late": at(12),
    }
    base.update(fields)
    return BurnDown(**base)  # type: ignore[arg-type]


def test_open_and_scope_are_steps_that_move_only_straight_up_or_down() -> None:
    xs, ys = steps(HISTORY, T0, "open")
    assert list(zip(xs, ys, strict=True)) == [
        (0, 10),
        (1, 10),
        (1, 8),
        (2, 8),
        (2, 14),
        (3, 14),
        (3, 12),
        (4, 12),
    ]
    for i in range(1, len(xs)):  # every segment is flat or vertical, never a slope
        assert xs[i] == xs[i - 1] or ys[i] == ys[i - 1]
    scope_x, scope_y = steps(HISTORY, T0, "scope")
    assert scope_y[-1] == 16 and scope_x[-1] == 4


def test_clip_cuts_a_line_at_the_frame_by_interpolation() -> None:
    assert clip([2, 12], [10, 0], 7) == ([2, 7], [10, 5])
    assert clip([-2, 2], [4, 0], 7) == ([0, 2], [2, 0])
    assert clip([8, 9], [1, 0], 7) == ([], [])
    assert clip([1, 3], [5, 5], 7) == ([1, 3], [5, 5])


def test_every_line_of_the_chart_stays_inside_the_frame() -> None:
    far = burn(due_at=at(400), ideal=(point(0, 10, 10), point(400, 0, 16)), forecast_late=None)
    for chart in (burn_chart(burn()), burn_chart(far)):
        assert chart is not None
        for xs, ys in (
            chart.open,
            chart.scope,
            chart.ideal,
            chart.forecast,
            chart.early,
            chart.late,
        ):
            assert all(0 <= x <= chart.x_max for x in xs)
            assert all(0 <= y <= chart.y_max for y in ys)
    chart = burn_chart(far)
    assert chart is not None
    # A due date a year out does not squash four days of history into a sliver.
    assert chart.x_max <= 4 + 2 * 4 + 1e-9
    assert chart.late[1][-1] == 12  # no late bound: the slowest likely rate is flat


def test_the_axis_reaches_the_due_date_and_the_forecast_range() -> None:
    chart = burn_chart(burn())
    assert chart is not None
    assert chart.x_max == 12  # the latest likely finish
    assert chart.today == 4
    assert chart.forecast == ([4, 8], [12, 0])
    assert chart.y_max >= 16


def test_no_forecast_lines_without_history_enough_and_the_note_says_why() -> None:
    note = "no forecast yet: 2 tasks finished over 1 minute (it needs 5 over at least 10 minutes)"
    young = burn(
        points=(point(0, 3, 5), point(1 / 1440, 3, 5)),
        forecast=(),
        forecast_done_at=None,
        forecast_early=None,
        forecast_late=None,
        due_at=None,
        ideal=(),
        forecast_note=note,
    )
    chart = burn_chart(young)
    assert chart is not None
    assert chart.forecast == chart.early == chart.late == ([], [])
    # Not a single vertical line: the axis spans at least MIN_SPAN.
    assert chart.x_max * 86400 >= MIN_SPAN.total_seconds() - 1e-6
    assert forecast_words(young).plain == note
    assert "forecast" not in " ".join(e.plain for e in legend(young))
    # Even when core sent forecast points alongside a note, the note wins.
    assert burn_chart(burn(forecast_note=note)).forecast == ([], [])  # type: ignore[union-attr]


def test_the_legend_names_what_is_drawn_and_never_splits_an_entry() -> None:
    entries = legend(burn())
    assert [e.plain.split(" ", 1)[1] for e in entries] == [
        "open",
        "scope",
        "ideal",
        "forecast",
        "range",
        "now",
    ]
    for width in (12, 20, 30, 80):
        lines = pack(entries, width).plain.split("\n")
        assert all(len(line) <= width for line in lines)
        assert sorted(" ".join(lines).split()) == sorted(" ".join(e.plain for e in entries).split())
    assert "range 06 May" not in forecast_words(burn()).plain
    assert "11 May to 17 May" in forecast_words(burn()).plain


def limited(metric: str, soft: float | None, hard: float | None, used: float) -> BudgetStatus:
    level = "over" if hard and used >= hard else "warn" if soft and used >= soft else "ok"
    return BudgetStatus("board", "WEB", metric, used, soft, hard, level)


ROWS = [
    ("tokens", 7_400_000.0, limited("tokens", 12_000_000, 15_000_000, 7_400_000)),
    ("cost_usd", 26.13, limited("cost_usd", 20.0, 60.0, 26.13)),
    ("cpu_hours", 4.0, None),
    ("gpu_hours", 1234.5, limited("gpu_hours", None, 2000.0, 1234.5)),
]


def bar_spans(lines: list[str]) -> set[tuple[int, int]]:
    """(first, last) column of the bar on each line that has one (its end mark is the last)."""
    spans = set()
    for line in lines:
        if HARD_MARK in line and "hard" not in line:  # not the legend line
            end = line.index(HARD_MARK)
            first = min(line.index(c) for c in "█░┊" if c in line)
            spans.add((first, end))
    return spans


def test_gauge_bars_are_one_length_whatever_the_figures() -> None:
    for width in (30, 44, 60, 90):
        lines = Text("\n").join(gauge_rows(ROWS, width)).plain.split("\n")
        assert len(bar_spans(lines)) == 1, (width, lines)
        assert all(len(line) <= width for line in lines)
    wide = [r.plain for r in gauge_rows(ROWS, 90)]
    assert "7.4M of 15.0M (49%)" in wide[0]
    assert "no limit" in wide[2]


def test_a_narrow_panel_puts_the_figure_above_a_full_width_bar() -> None:
    lines = Text("\n").join(gauge_rows(ROWS, 28)).plain.split("\n")
    assert len(bar_spans(lines)) == 1
    (first, end) = bar_spans(lines).pop()
    assert end - first + 1 >= MIN_BAR


class GaugesApp(App[None]):
    def __init__(self, view: BudgetView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield BudgetGauges()

    def on_mount(self) -> None:
        self.query_one(BudgetGauges).view = self.view


async def test_rendered_gauges_have_bars_of_one_length_and_a_legend_for_the_marks() -> None:
    view = BudgetView(
        board_budgets=tuple(b for _, _, b in ROWS if b is not None),
        board_usage=UsageTotals(tokens_in=7_400_000, cost_usd=26.13, gpu_seconds=1234.5 * 3600),
        agent="a-rather-long-agent-name",
        agent_budgets=(BudgetStatus("agent", "x", "cost_usd", 1.0, 4.0, 5.0, "ok"),),
        agent_usage=UsageTotals(cost_usd=1.0),
    )
    for width in (36, 70):
        app = GaugesApp(view)
        async with app.run_test(size=(width, 20)) as pilot:
            await pilot.pause()
            gauges = app.query_one(BudgetGauges)
            lines = [
                "".join(s.text for s in gauges.render_line(y)).rstrip()
                for y in range(gauges.size.height)
            ]
            assert len(bar_spans(lines)) == 1, lines
            bars = [line for line in lines if HARD_MARK in line and "hard" not in line]
            assert len(bars) == 4  # the board's tokens, cost and GPU hours, the agent's cost
            assert any("soft" in line and "hard" in line for line in lines)


class RosterApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AgentRoster()


async def test_doing_now_is_cut_with_an_ellipsis_to_the_room_left() -> None:
    doing = "Verifying the checkout against the staging environment with real cards"
    agent = Agent(
        name="iris",
        board="WEB",
        kind="agent",
        skills=(),
        role="",
        supervisor=None,
        last_heartbeat=T0,
        current_task="WEB-23",
        active_form=doing,
        state="working",
    )
    app = RosterApp()
    async with app.run_test(size=(60, 8)) as pilot:
        roster = app.query_one(AgentRoster)
        roster.show([agent], T0)
        await pilot.pause()
        cell = roster.get_cell("iris", "doing").plain
        assert cell.endswith("…") and doing.startswith(cell[:-1])
        row = "".join(s.text for s in roster.render_line(1)).rstrip()
        assert row.endswith("…"), row  # the cut is inside the table, not at its edge


def test_compact_gauges_keep_one_line_each_and_one_length() -> None:
    rows = gauge_rows(ROWS, 30, compact=True)
    assert all("\n" not in r.plain for r in rows)
    assert len(bar_spans([r.plain for r in rows])) == 1

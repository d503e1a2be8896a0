"""The agent roster: each agent's state, current task, what it is doing and its last heartbeat.

Rows are keyed by agent name and updated in place: only changed cells are rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from agentdeck.core.models import Agent
from agentdeck.tui.console.agent_text import line

STATE_STYLES = {
    "working": ("● working", "green"),
    "idle": ("○ idle", "dim"),
    "stale": ("✖ stale", "bold red"),
}
COLUMNS = (
    ("agent", "Agent"),
    ("state", "State"),
    ("task", "Task"),
    ("beat", "Beat"),
    ("doing", "Doing now"),
)


def ago(then: datetime | None, now: datetime) -> str:
    """A short age like `12s`, `5m`, `3h`, `2d`; `—` for never."""
    if then is None:
        return "—"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def fit_last_column(table: DataTable[Text], key: str, least: int = 2) -> int:
    """Make column `key` (the table's last) exactly as wide as the room the other columns
    leave, and return that width: its cells are cut to it with an ellipsis, never clipped
    mid-word by the table's edge."""
    others = sum(
        column.get_render_width(table)
        for column_key, column in table.columns.items()
        if column_key.value != key
    )
    column = table.columns[ColumnKey(key)]
    room = max(least, table.scrollable_content_region.width - others - 2 * table.cell_padding)
    if column.auto_width or column.width != room:
        column.auto_width = False
        column.width = room
        table.refresh()
    return room


def roster_cells(agent: Agent, now: datetime, doing_width: int = 60) -> dict[str, Text]:
    label, style = STATE_STYLES.get(agent.state, (agent.state, ""))
    return {
        "agent": line(agent.name, "bold", limit=16),
        "state": Text(label, style=style),
        "task": Text(agent.current_task or "—", style="" if agent.current_task else "dim"),
        "doing": line(
            agent.active_form or "",
            "italic" if agent.state == "working" else "dim italic",
            limit=doing_width,
        ),
        "beat": Text(ago(agent.last_heartbeat, now), style="dim"),
    }


class AgentRoster(DataTable[Text], can_focus=False):
    """A table of the board's agents (humans are left out); display only, never focused."""

    _shown: tuple[Sequence[Agent], datetime] | None = None
    _doing_width = 0
    _fitted_width = 0

    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Fit "Doing now" to the width the table is painted at: Resize and Show events come
        # before the new size is final when the charts panel appears.
        if self._shown is not None and self.size.width != self._fitted_width:
            self.call_later(self._refit)
        return super().render_lines(crop)

    def show(self, agents: Sequence[Agent], now: datetime) -> None:
        """Apply a roster snapshot as a diff keyed by agent name; "Doing now" is cut with an
        ellipsis to the room the other columns leave."""
        self._shown = (agents, now)
        wanted = {a.name: a for a in agents if a.kind == "agent"}
        present = {str(row.value) for row in self.rows}
        for gone in present - wanted.keys():
            self.remove_row(gone)
        doing_width = fit_last_column(self, "doing") if self.size.width else 60
        for name, agent in wanted.items():
            cells = roster_cells(agent, now, doing_width)
            if name not in present:
                self.add_row(*(cells[k] for k, _ in COLUMNS), key=name)
                continue
            self._update(name, cells)
        self._doing_width = doing_width
        # The new rows widen the other columns once the table has measured them: cut
        # "Doing now" again then, to what is left.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self._shown is None or not self.size.width:
            return
        self._fitted_width = self.size.width
        width = fit_last_column(self, "doing")
        if width != self._doing_width:
            self._doing_width = width
            agents, now = self._shown
            present = {str(row.value) for row in self.rows}
            for agent in agents:
                if agent.kind == "agent" and agent.name in present:
                    self._update(agent.name, roster_cells(agent, now, width))

    def _update(self, name: str, cells: dict[str, Text]) -> None:
        for key, value in cells.items():
            if self.get_cell(name, key) != value:
                self.update_cell(name, key, value)

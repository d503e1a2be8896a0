"""The agent roster: each agent's state, current task, what it is doing and its last heartbeat.

Rows are keyed by agent name and updated in place: only changed cells are rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
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

    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

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
            for key, value in cells.items():
                if self.get_cell(name, key) != value:
                    self.update_cell(name, key, value)

"""The agent roster: each agent's state, current task, what it is doing and its last heartbeat.

Rows are keyed by agent name and updated in place: only changed cells are rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

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


def roster_cells(agent: Agent, now: datetime) -> dict[str, Text]:
    label, style = STATE_STYLES.get(agent.state, (agent.state, ""))
    return {
        "agent": line(agent.name, "bold", limit=16),
        "state": Text(label, style=style),
        "task": Text(agent.current_task or "—", style="" if agent.current_task else "dim"),
        "doing": line(
            agent.active_form or "",
            "italic" if agent.state == "working" else "dim italic",
            limit=60,
        ),
        "beat": Text(ago(agent.last_heartbeat, now), style="dim"),
    }


class AgentRoster(DataTable[Text], can_focus=False):
    """A table of the board's agents (humans are left out); display only, never focused."""

    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.zebra_stripes = True
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, agents: Sequence[Agent], now: datetime) -> None:
        """Apply a roster snapshot as a diff keyed by agent name."""
        wanted = {a.name: a for a in agents if a.kind == "agent"}
        present = {str(row.value) for row in self.rows}
        for gone in present - wanted.keys():
            self.remove_row(gone)
        for name, agent in wanted.items():
            cells = roster_cells(agent, now)
            if name not in present:
                self.add_row(*(cells[k] for k, _ in COLUMNS), key=name)
                continue
            for key, value in cells.items():
                if self.get_cell(name, key) != value:
                    self.update_cell(name, key, value)

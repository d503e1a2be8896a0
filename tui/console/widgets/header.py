"""The top line: board name and goal, done/total with a progress bar, filter, live indicator."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from agentdeck.core.models import Board
from agentdeck.tui.console.agent_text import line, styled

LIVE_LABELS = {
    "live": ("● live", "bold green"),
    "pulse": ("● live", "bold bright_green reverse"),
    "off": ("○ paused", "dim"),
    "loading": ("◌ loading", "yellow"),
}


def progress_bar(done: int, total: int, width: int = 12) -> Text:
    """A bar of `width` cells, eighths included, for done out of total."""
    eighths = round(width * 8 * done / total) if total else 0
    full, part = divmod(eighths, 8)
    bar = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
    bar = bar[:width]
    text = styled("▕", "dim")
    text.append(bar, style="green")
    text.append(" " * (width - len(bar)), style="on grey23")
    text.append("▏", style="dim")
    return text


class BoardHeader(Widget):
    """One line over the board; the board screen sets its reactives after each refresh."""

    board: reactive[Board | None] = reactive(None)
    done = reactive(0)
    total = reactive(0)
    live = reactive("loading")
    problem: reactive[str | None] = reactive(None)
    filter_text = reactive("")

    def render(self) -> RenderResult:
        width = self.content_size.width
        right = Text(no_wrap=True)
        if self.filter_text:
            right.append(" filter ", style="reverse yellow")
            right.append_text(line(f" {self.filter_text}", "yellow", limit=40))
            right.append("  ")
        if self.total:
            right.append_text(progress_bar(self.done, self.total))
            right.append(f" {self.done}/{self.total} done", style="bold")
            right.append(f" {100 * self.done // self.total}%  ", style="dim")
        if self.problem:
            right.append_text(line(f"▲ {self.problem}", "bold red", limit=max(20, width // 3)))
        else:
            label, style = LIVE_LABELS.get(self.live, LIVE_LABELS["off"])
            right.append(label, style=style)
        right.append(" ")
        left = Text(no_wrap=True, overflow="ellipsis")
        left.append(" ◆ agentdeck ", style="bold")
        if self.board is not None:
            left.append("│ ", style="dim")
            left.append(self.board.key, style="bold reverse")
            left.append(" ")
            left.append_text(line(self.board.name, "bold"))
            if self.board.goal:
                left.append("  ")
                left.append_text(line(self.board.goal, "italic dim"))
        room = max(0, width - right.cell_len - 1)
        left.truncate(room, overflow="ellipsis", pad=True)
        return Text.assemble(left, " ", right)

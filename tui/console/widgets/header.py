"""The top line: board name and goal, filter, who the console acts as, how the board's agents
prove who they are, done/total with a progress bar, and the live indicator."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from agentdeck.core.models import Board, Credential
from agentdeck.tui.console.agent_text import line, styled

LIVE_LABELS = {
    "live": ("● live", "bold green"),
    "pulse": ("● live", "bold bright_green reverse"),
    "off": ("○ paused", "dim"),
    "loading": ("◌ loading", "yellow"),
}


# How the board's agents prove who they are (`agentdeck board agents token|named`).
AGENTS_MODES = {
    "token": ("agents: token", "green"),
    "named": ("agents: named", "yellow"),
}
# Below this width the header drops its brand, the percentage and half the progress bar.
NARROW = 110


def acting_label(me: Credential | None) -> Text:
    """Who this console's moves are made as: the holder of the credential it presents, or
    `read-only` when it holds none for this board (it can look, not act)."""
    if me is None:
        return Text("read-only", style="bold yellow")
    text = styled("as ", "dim")
    text.append_text(line(me.name, "bold", limit=16))
    if me.kind != "human":
        text.append(f" ({me.kind})", style="dim")
    return text


def agents_label(board: Board) -> Text:
    """The board's agents mode as a small badge, e.g. `agents: named` (yellow: agents may act
    by name alone) or `agents: token` (green: every agent presents its token)."""
    label, style = AGENTS_MODES.get(board.agents, (f"agents: {board.agents}", "dim"))
    return line(label, style, limit=20)


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

    # Who the console acts as (None: it holds no credential for the board); set with `board`.
    me: reactive[Credential | None] = reactive(None)

    def render(self) -> RenderResult:
        width = self.content_size.width
        narrow = width < NARROW
        right = Text(no_wrap=True)
        if self.filter_text:
            right.append(" filter ", style="reverse yellow")
            right.append_text(line(f" {self.filter_text}", "yellow", limit=20 if narrow else 40))
            right.append("  ")
        if self.board is not None:
            right.append_text(acting_label(self.me))
            right.append("  ")
            right.append_text(agents_label(self.board))
            right.append("  ")
        if self.total:
            right.append_text(progress_bar(self.done, self.total, 6 if narrow else 12))
            right.append(f" {self.done}/{self.total} done", style="bold")
            right.append("  " if narrow else f" {100 * self.done // self.total}%  ", style="dim")
        if self.problem:
            right.append_text(line(f"▲ {self.problem}", "bold red", limit=max(20, width // 3)))
        else:
            label, style = LIVE_LABELS.get(self.live, LIVE_LABELS["off"])
            right.append(label, style=style)
        right.append(" ")
        left = Text(no_wrap=True, overflow="ellipsis")
        left.append(" ◆ " if narrow else " ◆ agentdeck ", style="bold")
        if self.board is not None:
            if not narrow:
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

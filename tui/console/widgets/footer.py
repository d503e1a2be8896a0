"""The key footer, fitted to the terminal: whole keys or none.

Textual's footer lays every key out in a row and lets the row run under the command-palette
key docked on the right, so at 80 columns it ends in a stray letter ("^p paletteh"). This
footer keeps the keys that fit whole, in the screen's order, after reserving room for help
(`?`) and the palette; the dropped ones stay one keypress away in both.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Keys kept whatever the width: they lead to every other key.
ALWAYS = ("show_help", "app.show_help")
# Below this width the palette key goes too (help still lists everything).
PALETTE_MIN_WIDTH = 40


def key_width(key: FooterKey) -> int:
    """Cells a compact footer key takes: key, a space, its description, and the one-cell gap
    after it (the palette key has a rule on its left instead of the gap)."""
    description = f" {key.description}" if key.description else ""
    return len(key.key_display) + len(description) + 1


def fit_keys(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """The keys to show in `width` cells: the palette and help first, then the others in
    order, each only if it fits whole."""
    palette = [k for k in keys if k.has_class("-command-palette")]
    if width < PALETTE_MIN_WIDTH:
        palette = []
    rest = [k for k in keys if not k.has_class("-command-palette")]
    kept: set[int] = set()
    room = width - sum(key_width(k) + 1 for k in palette)  # and its rule
    for index, key in enumerate(rest):
        if key.action in ALWAYS and key_width(key) <= room:
            kept.add(index)
            room -= key_width(key)
    for index, key in enumerate(rest):
        if index not in kept and key_width(key) <= room:
            kept.add(index)
            room -= key_width(key)
    return [k for i, k in enumerate(rest) if i in kept] + palette


class KeyFooter(Footer):
    """A compact footer that never cuts a key; recomposed when the width changes."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._fitted_width = 0

    def compose(self) -> ComposeResult:
        widgets: Iterable[Widget] = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        if len(keys) != len(list(widgets)):  # grouped keys: leave Textual's layout alone
            yield from widgets
            return
        self._fitted_width = self.app.size.width
        yield from fit_keys(keys, self._fitted_width)

    def on_resize(self, event: Resize) -> None:
        if self._bindings_ready and self.app.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)

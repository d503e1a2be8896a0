"""The command palette (ctrl+p): agentdeck's own actions on the current screen first, one line
each (what it does, and its key), then the few of Textual's own commands worth keeping
(theme, keys panel, maximise, screenshot, quit).

Textual's default palette lists every binding with a description, so the widgets' own keys
(Down, Page down, Focus Next...) crowd out the app's, sorted together by name, each on two
lines. Here only bindings that an agentdeck class declares become commands, and of those
not the hidden ones that only move the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen

# The app's own bindings that the palette leaves out: quitting, help and the palette itself.
_SKIPPED = ("quit", "show_help", "command_palette")
# Textual's own commands kept, after agentdeck's.
TEXTUAL_KEPT = ("Theme", "Keys", "Maximize", "Minimize", "Screenshot", "Quit")


def _declared_by_agentdeck(node: DOMNode, action: str) -> bool:
    """Whether a class of agentdeck's (not Textual's) declares a binding to `action` on `node`."""
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("agentdeck."):
            continue
        for binding in cls.__dict__.get("BINDINGS", ()):
            declared = binding.action if hasattr(binding, "action") else binding[1]
            if declared == action:
                return True
    return False


def _what(name: str, sentence: str) -> str:
    """A command's words: the key's sentence, led by its short name when the sentence does
    not already say it ("Reassign: Give the task to..."); a symbol like "Prio↑" is dropped."""
    if not sentence:
        return name
    if not name.replace(" ", "").isalpha() or name.lower() in sentence.lower():
        return sentence
    return f"{name}: {sentence}"


def deck_commands(app: App[Any], screen: Screen[Any]) -> Iterator[SystemCommand]:
    """agentdeck's actions on `screen`, in the order the screen declares them, each a one-line
    title (what it does, then its key) and a callback."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or not binding.description or binding.action in seen:
            continue
        if binding.action in _SKIPPED or not _declared_by_agentdeck(active.node, binding.action):
            continue
        if not binding.show and not binding.tooltip:
            continue  # moving the cursor (arrows, pages, tab): keys, not commands
        seen.add(binding.action)
        key = binding.key_display or app.get_key_display(binding)
        what = _what(binding.description, binding.tooltip)
        callback = partial(app.run_action, binding.action, active.node)
        yield SystemCommand(f"{what} · {key}", f"key {key}", callback)


def textual_commands(commands: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """The few of Textual's own commands the palette keeps."""
    return (c for c in commands if c.title in TEXTUAL_KEPT)


class DeckCommands(Provider):
    """The palette's one provider: agentdeck's commands, then Textual's kept ones, one line
    each. With a query, the better match comes first, and on a tie agentdeck's."""

    def _commands(self) -> list[tuple[str, Callable[[], object], bool]]:
        app = self.app
        ours = {c.title for c in deck_commands(app, self.screen)}
        return [
            (c.title, c.callback, c.title in ours)
            for c in app.get_system_commands(self.screen)
            if c.discover
        ]

    async def discover(self) -> Hits:
        for title, callback, _ in self._commands():
            yield DiscoveryHit(Content(title), callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, ours in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score if ours else score * 0.9, matcher.highlight(title), callback)

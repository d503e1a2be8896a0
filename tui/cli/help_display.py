"""How `--help` shows options and text: a flag is just `--json`, not `--json <bool>`, and a
docstring's paragraphs flow to the terminal's width.

Typer's rich help prints a type beside every option, flags (and `--help` itself) included,
where `<bool>` only suggests the flag takes a value. A flag's metavar set to "" prints
nothing there; options that take a value keep their type or metavar.

Typer's rich help also keeps the line breaks of a docstring after its first paragraph, so a
sentence wrapped at 100 columns in the source breaks mid-sentence ("--as NAME alone" /
"will do") once rich wraps it again. The lines of each paragraph are joined; list items,
indented lines and Click's `\b` blocks keep their breaks.
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# A line that starts a list item or is indented keeps its own line.
_OWN_LINE = re.compile(r"\s|[-*•]\s|\d+[.)]\s")


def flowing(text: str | None) -> str | None:
    """`text` with the single line breaks inside each paragraph joined into spaces."""
    if not text:
        return text
    paragraphs = []
    for paragraph in text.split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph)
            continue
        lines = paragraph.split("\n")
        out = [lines[0]]
        for line in lines[1:]:
            if _OWN_LINE.match(line) or not line.strip():
                out.append(line)
            else:
                out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        paragraphs.append("\n".join(out))
    return "\n\n".join(paragraphs)


class PlainFlags:
    """Mixed into a Click command class: its flags, `--help` included, show no type in help,
    and its help text's paragraphs flow."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help: str | None = flowing(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class DeckCommand(PlainFlags, TyperCommand):
    """Every `agentdeck` command (the root group is `errors.DeckGroup`)."""


class DeckSubgroup(PlainFlags, TyperGroup):
    """A group of subcommands under the root, like `agentdeck task`."""


def plain_flags_in(app: typer.Typer) -> typer.Typer:
    """`app` with its commands (and its subgroups' commands) built as `DeckCommand`s."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):  # Typer's default, not a class of our own
            command.cls = DeckCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_flags_in(group.typer_instance)
    return app

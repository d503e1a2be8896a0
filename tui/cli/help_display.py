"""How `--help` shows options: a flag is just `--json`, not `--json <bool>`.

Typer's rich help prints a type beside every option, flags (and `--help` itself) included,
where `<bool>` only suggests the flag takes a value. A flag's metavar set to "" prints
nothing there; options that take a value keep their type or metavar.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


class PlainFlags:
    """Mixed into a Click command class: its flags, `--help` included, show no type in help."""

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

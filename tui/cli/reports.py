"""Reports and portability: `agentdeck report`, `burndown`, `export` (`import` is imports.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentdeck.tui.cli.context import (
    Session,
    deck_command,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import print_json, safe, say

if TYPE_CHECKING:
    pass

OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write to FILE, not stdout.")
]


@deck_command(full=True)
def report(
    s: Session,
    out: OutOption = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            metavar="NAME",
            help="Only this part (repeatable): done, in_progress, ready, blocked, needs_human, "
            "failed, budgets, time or forecast.",
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", metavar="LABEL", help="Only the tasks with this label."),
    ] = None,
) -> None:
    """Write a markdown progress report: done, in progress, blocked, waiting, budgets, forecast.

    With --json it prints the board's summary for agents instead, a few hundred tokens: counts per column, what needs a human, what is blocked or in progress, budgets, spend, forecast. With --json --section or --json --full, the markdown as {"board", "markdown"}.

    Example: agentdeck report --out progress.md

    Example: agentdeck report --section blocked --section needs_human

    Example: agentdeck report --json

    Example: agentdeck report --json --full

    Example: agentdeck report --label backend
    """
    deck = s.deck()
    key = deck.get_board(s.board).key
    if s.json and out is None and not section and not s.full:
        print_json(deck.report_summary(key, label=label))
        return
    markdown = deck.report(key, sections=section or None, label=label)
    if out is None:
        s.emit({"board": key, "markdown": markdown}, lambda: say(safe(markdown)))
        return
    _write(out, markdown)
    s.emit({"board": key, "path": str(out)}, lambda: say(f"wrote {out}"))


@deck_command()
def burndown(
    s: Session,
) -> None:
    """Show open tasks per day against scope and the ideal line, with a forecast.

    Example: agentdeck burndown --board WEB
    """
    chart = s.deck().burndown(s.board)

    def render() -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.burndown(chart)

    s.emit(chart.to_dict(), render)


@deck_command()
def export(
    s: Session,
    out: OutOption = None,
) -> None:
    """Export a whole board with its history as a versioned JSON document.

    Without --out the document itself is printed (it is JSON either way).

    Example: agentdeck export --board WEB --out web.json
    """
    doc = s.deck().export_board(s.board)
    if out is None:
        print_json(doc)
        return
    _write(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    key = doc["board"]["key"]
    s.emit({"board": key, "path": str(out)}, lambda: say(f"wrote board {key} to {out}"))


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from exc

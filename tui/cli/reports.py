"""Reports and portability: `agentdeck report`, `burndown`, `export` (`import` is imports.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from agentdeck.tui.cli.context import (
    Session,
    deck_command,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import plural, print_json, safe, say

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
    finished: Annotated[
        str,
        typer.Option(
            "--finished",
            metavar="summary|all",
            help="summary: finished work in numbers and the most recent (the default); "
            "all: every done and failed task, streamed.",
        ),
    ] = "summary",
) -> None:
    """Write a markdown progress report: done, in progress, blocked, waiting, budgets, forecast.

    Bounded on any board: finished work is summarised (counts, by agent and label, the 20 most recent) and each other part lists its first 20 tasks with a count of the rest; --finished all lists every done and failed task, written a page at a time as it is read.

    With --json it prints the board's summary for agents instead, a few hundred tokens: counts per column, what needs a human, what is blocked or in progress, budgets, spend, forecast. With --json --section or --json --full, the markdown as {"board", "markdown"}.

    Example: agentdeck report --out progress.md

    Example: agentdeck report --section blocked --section needs_human

    Example: agentdeck report --json

    Example: agentdeck report --json --full

    Example: agentdeck report --label backend

    Example: agentdeck report --finished all --out everything.md
    """
    deck = s.deck()
    key = deck.get_board(s.board).key
    if s.json and out is None and not section and not s.full and finished == "summary":
        print_json(deck.report_summary(key, label=label))
        return
    lines = deck.report_lines(key, sections=section or None, label=label, finished=finished)
    if out is not None:
        _write_lines(out, lines)
        s.emit({"board": key, "path": str(out)}, lambda: say(f"wrote {out}"))
    elif s.json:  # one JSON document: the markdown is whole in it
        print_json({"board": key, "markdown": "".join(lines)})
    else:
        for chunk in lines:  # written as read: --finished all holds one page at a time
            sys.stdout.write(safe(chunk))
        sys.stdout.flush()


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
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="native (agentdeck's JSON, the default), beads (an issues.jsonl) or backlog "
            "(a Backlog.md folder, written into --out or the current folder).",
        ),
    ] = "native",
) -> None:
    """Export a whole board with its history as a versioned JSON document, or as another tool's files.

    Without --out the document itself is printed (it is JSON either way). With --format beads
    it is beads' issues.jsonl (printed, or written to --out); with --format backlog a
    Backlog.md folder, backlog/ in --out (default: the current folder), never over existing tasks.

    Example: agentdeck export --board WEB --out web.json

    Example: agentdeck export --format beads --out .beads/issues.jsonl

    Example: agentdeck export --format backlog --out ../web-backlog
    """
    if fmt != "native":
        _export_format(s, fmt, out)
        return
    doc = s.deck().export_board(s.board)
    if out is None:
        print_json(doc)
        return
    _write(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    key = doc["board"]["key"]
    s.emit({"board": key, "path": str(out)}, lambda: say(f"wrote board {key} to {out}"))


def _export_format(s: Session, fmt: str, out: Path | None) -> None:
    """`export --format beads|backlog`: the board as the other tool's files."""
    from agentdeck.core.formats.export_formats import write_export

    deck = s.deck()
    key = deck.get_board(s.board).key
    files = deck.export_format(key, fmt)
    tasks = sum(1 for name in files if name.endswith(".md")) if fmt == "backlog" else None
    if fmt == "beads":
        tasks = files["issues.jsonl"].count("\n")
        if out is None:
            for line in files["issues.jsonl"].splitlines():
                print_json(json.loads(line))
            return
    try:
        path = write_export(files, fmt, out if out is not None else Path("."))
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or out}: {exc.strerror}") from exc
    count = plural(tasks or 0, "task")
    s.emit(
        {"board": key, "format": fmt, "path": str(path), "tasks": tasks},
        lambda: say(f"wrote board {key} as {fmt} ({count}) to {safe(str(path))}"),
    )


def _write_lines(path: Path, lines: Iterator[str]) -> None:
    """Write the report to `path` as it is read, a chunk at a time."""
    try:
        with path.open("w", encoding="utf-8") as file:
            for chunk in lines:
                file.write(chunk)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from exc


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from exc

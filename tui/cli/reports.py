"""Reports and portability: `agentdeck report`, `burndown`, `export`, `import`."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentdeck.tui.cli.context import (
    Session,
    deck_command,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import plural, print_json, safe, say, warn
from agentdeck.tui.cli.stopping import stop_on_interrupt

if TYPE_CHECKING:
    from agentdeck.core.models import Imported

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


@deck_command()
def import_(
    s: Session,
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE | claude DIR | beads FILE",
            help="An agentdeck export, or `claude` and a task directory, or `beads` and a JSONL file.",
        ),
    ],
    path: Annotated[
        str | None,
        typer.Argument(metavar="PATH", help="The directory or file, after claude or beads."),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Import an export under this board key.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="With claude: keep mirroring the directory's changes.")
    ] = False,
) -> None:
    """Import a board export, a Claude Code task directory, or a beads JSONL export.

    All or nothing: malformed input names the file and line or field, and imports nothing.
    Importing claude or beads again updates the tasks it made before instead of duplicating.

    Example: agentdeck import claude ~/.claude/tasks/my-team --board WEB --watch
    """
    if source in ("claude", "beads") and path is not None:
        if watch and source != "claude":
            raise CliError("--watch works with `agentdeck import claude DIR` only")
        _mirror(s, source, path, watch)
        return
    if path is not None:
        raise CliError(
            f"unexpected {path!r}: use `import FILE`, `import claude DIR` or `import beads FILE`"
        )
    if watch:
        raise CliError("--watch works with `agentdeck import claude DIR` only")
    doc = _read_json(source)
    creator = s.creator()
    created = s.deck(create=True).import_board(doc, actor=creator, key=key)
    saved = s.save_credential(created.key, creator)

    def render() -> None:
        say(f"imported board {created.key} ({safe(created.name, one_line=True)})")
        say(f"your credential is saved in {saved}")
        say("tokens are never exported: give each agent a new one with `agent token NAME --rotate`")

    s.emit({**created.to_dict(), "credential_file": saved}, render)


def _mirror(s: Session, source: str, path: str, watch: bool) -> None:
    """Import from Claude Code or beads; with `watch`, again whenever the directory changes."""
    deck = s.deck()
    actor = s.human()
    run = (
        functools.partial(deck.import_claude, on_skip=warn)
        if source == "claude"
        else deck.import_beads
    )
    seen = _directory_state(path) if watch else ()
    imported = run(path, actor=actor, board=s.board)
    _imported(s, source, imported)
    if not watch:
        return
    board = imported.board
    from watchfiles import watch as watch_changes

    from agentdeck.core import DeckError

    # File events are hints; the directory's state decides. The 1 s timeout also covers
    # changes made before the watcher started and filesystems without notifications.
    with stop_on_interrupt() as stop:
        for _ in watch_changes(
            path, debounce=200, step=50, rust_timeout=1000, yield_on_timeout=True, stop_event=stop
        ):
            state = _directory_state(path)
            if stop.is_set() or state == seen:
                continue
            seen = state
            try:
                _imported(s, source, run(path, actor=actor, board=board))
            except DeckError as exc:  # e.g. a file caught half-written: wait for the next change
                warn(f"not mirrored yet: {exc.message}")


def _directory_state(path: str) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every task file, to tell whether anything changed."""
    state = []
    for file in sorted(Path(path).glob("*.json")):
        try:
            stat = file.lstat()  # a symlink is skipped by the import, so its target is not watched
        except FileNotFoundError:  # deleted while listing
            continue
        state.append((file.name, stat.st_mtime_ns, stat.st_size))
    return tuple(state)


def _imported(s: Session, source: str, imported: Imported) -> None:
    """What the import touched, then one line per change it left alone and why."""

    from agentdeck.core.lifecycle import status_words

    def render() -> None:
        count = plural(len(imported.tasks), f"{source} task")
        say(f"mirrored {count} into board {imported.board}")
        for skip in imported.skipped:
            say(
                f"left {skip.key} {status_words(skip.status)} (the file wants "
                f"{safe(status_words(skip.wanted), one_line=True)}): {safe(skip.reason, one_line=True)}"
            )

    s.emit(
        {
            "board": imported.board,
            "source": source,
            "tasks": [t.to_dict() for t in imported.tasks],
            "skipped": [k.to_dict() for k in imported.skipped],
        },
        render,
    )


def _read_json(path: str) -> Any:
    """The export at `path`: a regular file only (not a FIFO or device), up to the size limit."""
    from agentdeck.core import limits
    from agentdeck.core.errors import ValidationError
    from agentdeck.core.formats.files import read_regular_file
    from agentdeck.core.formats.native import MAX_DOCUMENT

    try:
        raw = read_regular_file(path, MAX_DOCUMENT, follow_links=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text") from exc
    try:
        return json.loads(raw, parse_constant=limits.json_constant)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} line {exc.lineno}: not valid JSON: {exc.msg}") from exc
    except ValidationError as exc:  # NaN or Infinity
        raise CliError(f"{path}: {exc.message}") from None
    except RecursionError:
        raise CliError(f"{path}: nested too deeply to read") from None


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

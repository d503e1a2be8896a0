"""`agentdeck import`: a board export, or another tool's tasks (beads, Claude Code, Backlog.md,
Taskmaster) mirrored into a board, with a summary of what was created, updated, mapped,
skipped and kept; `--dry-run` prints the same summary and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentdeck.tui.cli.context import Session, deck_command
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import plural, safe, say, warn
from agentdeck.tui.cli.stopping import stop_on_interrupt

if TYPE_CHECKING:
    from agentdeck.core.models import Imported, ImportSummary

SOURCES = ("beads", "claude", "backlog", "taskmaster")
SOURCE_WORDS = {
    "beads": "beads",
    "claude": "Claude Code",
    "backlog": "Backlog.md",
    "taskmaster": "Taskmaster",
}
SHOWN = 8  # list items shown per summary line; the rest are counted


@deck_command()
def import_(
    s: Session,
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE | beads FILE | claude DIR | backlog DIR | taskmaster FILE",
            help="An agentdeck export, or a source and its file or folder.",
        ),
    ],
    path: Annotated[
        str | None,
        typer.Argument(metavar="PATH", help="The file or folder, after the source's name."),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Import an export under this board key.")
    ] = None,
    create: Annotated[
        bool,
        typer.Option("--create", help="Make the board --board KEY first if it does not exist."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print what would be created, updated, mapped and dropped; change nothing.",
        ),
    ] = False,
    map_status: Annotated[
        list[str] | None,
        typer.Option(
            "--map-status",
            metavar="FROM=TO",
            help="Map a source status (repeatable): hooked=in_progress. TO is pending, in_progress, done or cancelled.",
        ),
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", metavar="TAG", help="With taskmaster: only this tag.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="With claude: keep mirroring the folder's changes.")
    ] = False,
) -> None:
    """Import a board export, or mirror beads, Claude Code, Backlog.md or Taskmaster tasks.

    Source ids are kept, namespaced by source and list, so importing again updates what
    changed and never duplicates. Every source field lands somewhere: what has no agentdeck
    home is kept in the task's metadata and listed in the summary. Unknown statuses map by
    their name (see README "Coming from another tool"), dependencies on items not in the
    source are kept as external references, records of other kinds are skipped and counted,
    and a record that cannot be read is skipped and listed as a problem.

    Example: agentdeck import beads .beads/issues.jsonl --board WEB --create --dry-run

    Example: agentdeck import claude ~/.claude/tasks --board WEB --watch

    Example: agentdeck import taskmaster .taskmaster/tasks/tasks.json --tag master

    Example: agentdeck import web.json --key WEB2
    """
    if source in SOURCES:
        if path is None:
            noun = "DIR" if source in ("claude", "backlog") else "FILE"
            raise CliError(f"`agentdeck import {source}` needs a {noun}")
        if watch and source != "claude":
            raise CliError("--watch works with `agentdeck import claude DIR` only")
        if watch and dry_run:
            raise CliError("--watch mirrors for real; run --dry-run without it first")
        _mirror(s, source, path, watch, create, dry_run, map_status or [], tag)
        return
    if path is not None:
        raise CliError(
            f"unexpected {path!r}: use `import FILE` or `import SOURCE PATH` "
            f"(sources: {', '.join(SOURCES)})"
        )
    for flag, given in (("--watch", watch), ("--create", create), ("--dry-run", dry_run),
                        ("--map-status", bool(map_status)), ("--tag", tag is not None)):  # fmt: skip
        if given:
            raise CliError(f"{flag} works with `agentdeck import SOURCE PATH` only")
    _native(s, source, key)


def _native(s: Session, source: str, key: str | None) -> None:
    doc = _read_json(source)
    creator = s.creator()
    created = s.deck(create=True).import_board(doc, actor=creator, key=key)
    saved = s.save_credential(created.key, creator)

    def render() -> None:
        say(f"imported board {created.key} ({safe(created.name, one_line=True)})")
        say(f"your credential is saved in {saved}")
        say("tokens are never exported: give each agent a new one with `agent token NAME --rotate`")

    s.emit({**created.to_dict(), "credential_file": saved}, render)


def _mirror(
    s: Session,
    source: str,
    path: str,
    watch: bool,
    create: bool,
    dry_run: bool,
    map_status: list[str],
    tag: str | None,
) -> None:
    """Import from another tool; with `watch`, again whenever the folder changes."""
    from agentdeck.core.formats.mirror import parse_status_map

    table = parse_status_map(map_status)
    if create and not s.board:
        raise CliError("--create needs --board KEY: the key of the board to create")
    deck = s.deck(create=create)
    new_board = create and s.board is not None and not _exists(deck, s.board)
    actor = s.creator() if new_board else s.human()

    def run(board: str | None, fresh: bool) -> Imported:
        return deck.import_source(
            source,
            path,
            actor=actor,
            board=board,
            create=fresh,
            dry_run=dry_run,
            status_map=table,
            tag=tag,
        )

    seen = _directory_state(path) if watch else ()
    imported = run(s.board, new_board)
    saved = s.save_credential(imported.board, actor) if new_board and not dry_run else None
    reported: set[str] = set()
    _imported(s, source, imported, saved, reported)
    if not watch:
        return
    board = imported.board
    from watchfiles import watch as watch_changes

    from agentdeck.core import DeckError

    # File events are hints; the folder's state decides. The 1 s timeout also covers changes
    # made before the watcher started and filesystems without notifications.
    with stop_on_interrupt() as stop:
        for _ in watch_changes(
            path, debounce=200, step=50, rust_timeout=1000, yield_on_timeout=True, stop_event=stop
        ):
            state = _directory_state(path)
            if stop.is_set() or state == seen:
                continue
            seen = state
            try:
                _imported(s, source, run(board, False), None, reported)
            except DeckError as exc:  # e.g. every file half-written: said once, then wait
                if exc.message not in reported:
                    reported.add(exc.message)
                    warn(f"not mirrored: {exc.message}")


def _exists(deck: Any, key: str) -> bool:
    return any(b.key == key.upper() for b in deck.list_boards())


def _directory_state(path: str) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every task file (in the folder and in its list
    folders), to tell whether anything changed."""
    state = []
    root = Path(path)
    for file in sorted([*root.glob("*.json"), *root.glob("*/*.json")]):
        try:
            stat = file.lstat()  # a symlink is skipped by the import, so its target is not watched
        except FileNotFoundError:  # deleted while listing
            continue
        state.append((str(file.relative_to(root)), stat.st_mtime_ns, stat.st_size))
    return tuple(state)


def summary_doc(imported: Imported, saved: str | None = None) -> dict[str, Any]:
    """The `--json` answer of an import of another tool's tasks (tui/CLI.md's table)."""
    from agentdeck.core.views import task_card

    summary = imported.summary
    doc: dict[str, Any] = {"board": imported.board}
    if summary is not None:
        doc.update(
            source=summary.source,
            dry_run=summary.dry_run,
            created_board=summary.created_board,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            kinds={
                k.kind: {"created": k.created, "updated": k.updated, "unchanged": k.unchanged}
                for k in summary.kinds
            },
            mapped=[{"from": a, "to": z, "tasks": n} for a, z, n in summary.mapped],
            skipped_records=dict(summary.skipped),
            kept=dict(summary.kept),
            external=[{"task": t, "ref": r} for t, r in summary.external],
            problems=list(summary.problems),
        )
    doc["skipped"] = [k.to_dict() for k in imported.skipped]
    doc["tasks"] = [task_card(t) for t in imported.tasks]
    if saved:
        doc["credential_file"] = saved
    return doc


def summary_lines(source: str, summary: ImportSummary) -> list[str]:
    """The summary for people, the same in a dry run and a real one (a dry run says so last)."""
    total = summary.created + summary.updated + summary.unchanged
    lines = [
        f"{'made board ' + summary.board + '; ' if summary.created_board else ''}"
        f"mirrored {plural(total, f'{source} task')} into board {summary.board}: "
        f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged"
    ]
    if len(summary.kinds) > 1:
        lines.append(
            "  by kind: "
            + ", ".join(
                f"{k.kind} {k.created + k.updated + k.unchanged} ({k.created} new)"
                if k.created
                else f"{k.kind} {k.created + k.updated + k.unchanged}"
                for k in summary.kinds
            )
        )
    if summary.mapped:
        lines.append(
            "  statuses mapped: " + _some(f"{a} -> {z} ({n})" for a, z, n in summary.mapped)
        )
    if summary.skipped:
        lines.append("  records skipped: " + _some(f"{kind} ({n})" for kind, n in summary.skipped))
    if summary.kept:
        lines.append("  kept in metadata: " + _some(f"{f} ({n})" for f, n in summary.kept))
    if summary.external:
        lines.append(
            f"  external references ({len(summary.external)}, kept on the task): "
            + _some(f"{t} -> {r}" for t, r in summary.external)
        )
    if summary.problems:
        lines.append(
            f"  {plural(len(summary.problems), 'record')} could not be read and "
            f"{'was' if len(summary.problems) == 1 else 'were'} skipped (each said on stderr)"
        )
    if summary.dry_run:
        lines.append("dry run: nothing was changed")
    return lines


def _some(parts: Any) -> str:
    items = list(parts)
    shown = ", ".join(items[:SHOWN])
    return shown + (f", and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _imported(
    s: Session, source: str, imported: Imported, saved: str | None, reported: set[str]
) -> None:
    """The summary, then one line per change left alone and why; each problem goes to stderr
    once (under --watch, the first time it is seen, not at every change)."""
    from agentdeck.core.lifecycle import status_words

    summary = imported.summary
    fresh = [p for p in (summary.problems if summary else ()) if p not in reported]
    reported.update(fresh)

    def render() -> None:
        if summary is not None:
            for line in summary_lines(source, summary):
                say(safe(line, one_line=True))
        for skip in imported.skipped:
            say(
                f"left {skip.key} {status_words(skip.status)} (the file wants "
                f"{safe(status_words(skip.wanted), one_line=True)}): {safe(skip.reason, one_line=True)}"
            )
        if saved:
            say(f"your credential is saved in {saved}")

    for problem in fresh:
        warn(problem)
    s.emit(summary_doc(imported, saved), render)


def _read_json(path: str) -> Any:
    """The export at `path`: a regular file only (not a FIFO or device), up to the size limit;
    a file of another tool says which and the command that imports it."""
    from agentdeck.core import limits
    from agentdeck.core.errors import ValidationError
    from agentdeck.core.formats.files import read_regular_file
    from agentdeck.core.formats.native import MAX_DOCUMENT
    from agentdeck.core.formats.sniff import looks_like

    data = read_regular_file(path, MAX_DOCUMENT, follow_links=True)
    looks_like(Path(path), "native", data)
    try:
        raw = data.decode("utf-8")
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

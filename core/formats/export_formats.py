"""Exporting a board in another tool's format: `beads` (an issues.jsonl) or `backlog` (a
Backlog.md folder). Both read the board through native.export_board, the same snapshot
`agentdeck export` writes, so they see exactly what the native export does.

Verbs here: export_files (read), write_export (files onto disk).
"""

from __future__ import annotations

from pathlib import Path

from agentdeck.core.errors import ValidationError
from agentdeck.core.formats import native
from agentdeck.core.formats.export_backlog import backlog_files, write_backlog
from agentdeck.core.formats.export_beads import beads_issues, beads_jsonl
from agentdeck.core.storage.transaction import Tx

FORMATS = ("beads", "backlog")
BEADS_FILE = "issues.jsonl"


def export_files(tx: Tx, board: str | None, fmt: str) -> dict[str, str]:
    """The board as `fmt`'s files, by path relative to where they go: `issues.jsonl` for
    beads; `backlog/config.yml` and `backlog/tasks/*.md` for Backlog.md."""
    if fmt not in FORMATS:
        raise ValidationError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    doc = native.export_board(tx, board)
    if fmt == "beads":
        return {BEADS_FILE: beads_jsonl(beads_issues(doc))}
    return backlog_files(doc)


def write_export(files: dict[str, str], fmt: str, out: Path) -> Path:
    """Write an export's files: beads to the file `out` (or `out/issues.jsonl` when `out` is
    a folder), Backlog.md into the project folder `out`. Returns what was written."""
    if fmt == "backlog":
        return write_backlog(files, out)
    target = out / BEADS_FILE if out.is_dir() else out
    target.write_text(files[BEADS_FILE], encoding="utf-8", newline="\n")
    return target

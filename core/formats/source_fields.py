"""Shared rules for reading other tools' fields into `Incoming` (formats/backlog.py and
formats/taskmaster.py): how an unknown status maps, how priority words become agentdeck's
0-4 scale, how a person becomes an agent name, which labels survive, how source values are
kept in metadata, and what a path that is not the named kind looks like.

The status rule, documented in README "Coming from another tool": a `status_map` entry (from
`--map-status`) wins; then the source tool's own table; then the status's words (`won't do`
-> cancelled, `qa` -> review, `blocked` -> pending, ...); then, for a tool with an ordered
list of statuses (Backlog.md's config.yml), the first is pending, the last done and the
others in progress; then the words inside the name, as for every source (mirror.STATUS_RULES:
`wontfix-later` -> cancelled, `needs-review` -> in progress); anything else is pending. Every
mapping is counted in ReadNotes.mapped.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import stat
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import DeckError, ValidationError
from agentdeck.core.formats.mirror import STATUS_RULES, Incoming, ReadNotes
from agentdeck.core.models import STATUSES

# Status words, normalised by `_words`, for any tool: the fallback after the tool's own table.
_STATUS_GROUPS = {
    "pending": (
        "to do|todo|open|new|backlog|pending|planned|ready|deferred|later|someday|on hold|"
        "paused|blocked|waiting|draft|proposed|icebox|not started|unstarted|triage"
    ),
    "in_progress": "in progress|doing|wip|active|started|working|ongoing|hooked|pinned",
    "review": "review|in review|reviewing|qa|testing|verify|to verify",
    "done": "done|completed|complete|closed|finished|resolved|shipped|merged|released",
    "cancelled": (
        "cancelled|canceled|wont do|wontdo|wont fix|wontfix|abandoned|rejected|obsolete|"
        "duplicate|dropped|not planned|tombstone"
    ),
    "failed": "failed",
    "escalated": "escalated",
}
STATUS_WORDS: dict[str, str] = {
    word: status for status, words in _STATUS_GROUPS.items() for word in words.split("|")
}

# Priority words -> agentdeck's 0 (most urgent) .. 4 scale (limits.priority).
PRIORITY_WORDS = {
    "critical": 0,
    "urgent": 0,
    "highest": 0,
    "blocker": 0,
    "high": 1,
    "medium": 2,
    "normal": 2,
    "moderate": 2,
    "low": 3,
    "lowest": 4,
    "trivial": 4,
    "minor": 3,
    "major": 1,
}


@functools.lru_cache(maxsize=1024)
def _words(raw: str) -> str:
    """A status as words: lower case, `-` and `_` as spaces, apostrophes gone."""
    folded = unicodedata.normalize("NFKC", raw).casefold()
    folded = folded.replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[-_]+", " ", folded).split())


def check_status_map(status_map: dict[str, str] | None) -> dict[str, str]:
    """`--map-status` entries keyed by their words, each value an agentdeck status."""
    out: dict[str, str] = {}
    for source, target in (status_map or {}).items():
        if target not in STATUSES:
            raise ValidationError(
                f"--map-status {source}={target}: {target!r} is not one of {', '.join(STATUSES)}"
            )
        out[_words(str(source))] = target
    return out


def map_status(
    raw: str,
    notes: ReadNotes,
    *,
    table: dict[str, str],
    overrides: dict[str, str],
    ordered: list[str] | None = None,
) -> str:
    """The agentdeck status for the source's `raw` status by the rule in the module docstring,
    counted in `notes.mapped` as (raw, result)."""
    words = _words(raw)
    status = overrides.get(words) or table.get(words) or STATUS_WORDS.get(words)
    if status is None and ordered:
        position = [_words(s) for s in ordered]
        if words in position:
            index = position.index(words)
            status = (
                "pending" if index == 0 else "done" if index == len(position) - 1 else "in_progress"
            )
    if status is None:  # the words inside the name, as for beads (mirror.STATUS_RULES)
        squashed = words.replace(" ", "")
        status = next((to for ws, to in STATUS_RULES if any(w in squashed for w in ws)), "pending")
    key = (raw, status)
    notes.mapped[key] = notes.mapped.get(key, 0) + 1
    return status


def priority_of(raw: Any, ordered: list[str] | None = None) -> int | None:
    """Agentdeck's priority for a source priority word (or a 0-4 number); with the source's
    ordered list of priorities (most urgent first) an unknown word is placed by its rank.
    None when there is no telling (the caller keeps the raw value in metadata)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw if 0 <= raw <= 4 else None
    word = _words(str(raw))
    if word in PRIORITY_WORDS:
        return PRIORITY_WORDS[word]
    if ordered:
        ranks = [_words(p) for p in ordered]
        if word in ranks and len(ranks) > 1:
            return round(ranks.index(word) * 4 / (len(ranks) - 1))
    return None


def agent_name(raw: Any) -> str | None:
    """A person as an agent name: `@alice` -> `alice`, `Jane Doe` -> `Jane-Doe`; None when
    nothing usable is left (the caller keeps the raw value)."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    text = str(raw).strip().lstrip("@").strip()
    text = re.sub(r"[^\w.@:+-]+", "-", text).strip("-")[:64]
    if not text:
        return None
    try:
        return limits.name(text)
    except DeckError:
        return None


def label_set(raw: list[Any]) -> tuple[list[str], list[Any]]:
    """The labels agentdeck can store (spaces become `-`, characters a label cannot hold are
    dropped, at most limits.MAX_LABELS) and the raw values that did not survive as written."""
    kept: list[str] = []
    changed: list[Any] = []
    for value in raw:
        text = str(value) if isinstance(value, str | int | float) else ""
        candidate = re.sub(r"\s+", "-", text.strip())
        candidate = re.sub(r"[^\w.:/+#@-]", "", candidate).lstrip(".:/+#@-")[: limits.MAX_LABEL]
        try:
            label = limits.label(candidate)
        except DeckError:
            changed.append(json_safe(value))
            continue
        if label != text:
            changed.append(json_safe(value))
        if label not in kept:
            kept.append(label)
    if len(kept) > limits.MAX_LABELS:
        changed.extend(kept[limits.MAX_LABELS :])
        kept = kept[: limits.MAX_LABELS]
    return sorted(kept), changed


def json_safe(value: Any, depth: int = 0) -> Any:
    """A source value as JSON data for `Incoming.metadata`: dates as ISO text, non-finite
    floats and other objects as text, nesting cut at limits.MAX_DEPTH."""
    if value is None or isinstance(value, bool | int | str):
        return limits.storable(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= limits.MAX_DEPTH - 2:
        return json.dumps(str(value))[:200]
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v, depth + 1) for v in value]
    return limits.storable(str(value))


def when(raw: Any) -> datetime | None:
    """A source timestamp (ISO text with or without time or zone, `2025-06-14 10:30`, a YAML
    date, epoch milliseconds) as an aware datetime (UTC when the source gave no zone); None
    when there is none or it cannot be read."""
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            return datetime.fromtimestamp(raw / 1000 if raw > 1e11 else raw, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip().strip("'\"")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def title_of(raw: Any, fallback: str) -> tuple[str, str | None]:
    """A storable task title from the source's, cut to limits.MAX_TITLE with an ellipsis, or
    `fallback` when it is empty; and the source's full title when it had to change."""
    text = " ".join(limits.storable(str(raw) if raw is not None else "").split())
    if not text:
        return fallback, None
    if len(text) > limits.MAX_TITLE:
        return text[: limits.MAX_TITLE - 1] + limits.ELLIPSIS, text
    return text, None


def keep(metadata: dict[str, Any], notes: ReadNotes, field: str, value: Any) -> None:
    """Keep a source field with no agentdeck home in the task's metadata, counted by name."""
    metadata[field] = json_safe(value)
    notes.kept[field] = notes.kept.get(field, 0) + 1


def looks_like(path: Path) -> str:
    """What a path seems to hold, for "not a ... : looks like ..." refusals: the tool or kind
    it resembles, judged from its name and first bytes only."""
    try:
        if path.is_dir():
            entries = {p.name for p in itertools.islice(path.iterdir(), 2000)}
            if ".taskmaster" in entries or "tasks.json" in entries:
                return "a Taskmaster project"
            if "backlog" in entries or ("config.yml" in entries and "tasks" in entries):
                return "a Backlog.md project"
            if ".beads" in entries or any(e.endswith(".jsonl") for e in entries):
                return "a folder with beads files"
            if any(re.fullmatch(r"\d+\.json", e) for e in entries) or ".highwatermark" in entries:
                return "a Claude Code task list"
            if any(e.endswith(".md") for e in entries):
                return "a folder of Markdown files that are not Backlog.md tasks"
            return "an empty folder" if not entries else "a folder of other files"
        if not path.exists():
            return "nothing (no such file or folder)"
        # Checked before opening (opening a device can act) and again on the descriptor,
        # opened without blocking: a FIFO or device is named, never read.
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "a FIFO, socket or device, not a file"
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return "a FIFO, socket or device, not a file"
            head = file.read(4096)
    except OSError as exc:
        return f"something that cannot be read ({exc.strerror})"
    text = head.decode("utf-8", "replace").lstrip("\ufeff").lstrip()
    if text.startswith("---") or path.suffix.lower() == ".md":
        return "a Markdown file (a Backlog.md task? name its folder instead)"
    first = text.split("\n", 1)[0]
    if '"format": "agentdeck-board"' in text or '"format":"agentdeck-board"' in text:
        return "an agentdeck board export"
    if first.startswith("{") and ('"issue_type"' in first or '"_type"' in first):
        return "a beads JSONL export"
    if '"subject"' in text and '"status"' in text:
        return "a Claude Code task file"
    if text.startswith("[") and '"content"' in text and '"activeForm"' in text:
        return "a Claude Code todo list"
    if text.startswith(("{", "[")):
        return "JSON of another kind"
    if not text:
        return "an empty file"
    return "a file of another kind"


def too_big(value: Any, budget: int = 20_000) -> bool:
    """Whether parsed YAML holds more than `budget` values once its aliases are followed (a
    small file of `&a [*a, *a, ...]` anchors describes billions), so it is refused before
    anything walks it."""
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            return True
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)
    return False


def settle_links(items: list[Incoming], notes: ReadNotes) -> None:
    """Make the tasks' parents and waits something a board can hold, keeping what had to go
    as a link on the task and a line in the notes (never an error): a task waiting on itself
    or on one of its own parents (which wait for it as an epic), a parent chain that comes
    back to the task, and a cycle of waits (broken at the edge that closes it)."""
    by_id = {i.external_id: i for i in items}
    for item in items:
        seen = {item.external_id}
        up = item.parent
        while up is not None and up in by_id:
            if up in seen:
                notes.problems.append(
                    f"{item.where}: parent {item.parent} leads back to {item.external_id}; "
                    "kept as a link"
                )
                item.links.append(("parent (cycle)", item.parent or ""))
                item.parent = None
                break
            seen.add(up)
            up = by_id[up].parent
    for item in items:
        ancestors = set()
        up = item.parent
        while up is not None and up not in ancestors and up in by_id:
            ancestors.add(up)
            up = by_id[up].parent
        for blocker in list(item.blocked_by):
            if blocker == item.external_id or blocker in ancestors:
                item.blocked_by.remove(blocker)
                what = "itself" if blocker == item.external_id else f"its parent {blocker}"
                notes.problems.append(
                    f"{item.where}: {item.external_id} waits on {what}; kept as a link"
                )
                item.links.append(("depends-on (own parent)", blocker))
    done: set[str] = set()
    for start in by_id:
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(list(by_id[start].blocked_by))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                on_path.discard(path[-1])
                done.add(path.pop())
                stack.pop()
            elif step in on_path:
                waiter = by_id[path[-1]]
                waiter.blocked_by.remove(step)
                waiter.links.append(("depends-on (cycle)", step))
                notes.problems.append(
                    f"{waiter.where}: {waiter.external_id} waiting on {step} closes a cycle; "
                    "kept as a link"
                )
            elif step not in done and step in by_id:
                path.append(step)
                on_path.add(step)
                stack.append(iter(list(by_id[step].blocked_by)))


def storable_id(raw: Any) -> str:
    """A source id as text fit for an external id: trimmed, no control characters."""
    text = limits.storable(str(raw)).strip()
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable())
    return text[:200]


__all__ = [
    "agent_name",
    "check_status_map",
    "json_safe",
    "keep",
    "label_set",
    "looks_like",
    "map_status",
    "priority_of",
    "storable_id",
    "title_of",
    "when",
]

"""Reading a Backlog.md folder (https://github.com/MrLesk/Backlog.md) into `Incoming` tasks.

A Backlog.md project keeps one Markdown file per task, `backlog/tasks/<id> - <Title>.md`: YAML
front matter (id, title, status, assignee, reporter, created_date, updated_date, labels,
milestone, dependencies, parent_task_id, priority, type, ordinal, references, ...) and
sections (`## Description`, `## Acceptance Criteria`, `## Definition of Done`, `## Implementation
Plan`, `## Implementation Notes`, `## Comments`, `## Final Summary`), each between
`<!-- SECTION:...:BEGIN/END -->` (or `<!-- AC:BEGIN -->`, ...) markers in newer versions and
bare in older ones. This reader follows Backlog.md's own parser (src/markdown/parser.ts and
structured-sections.ts) where the format is defined, and reads past what it is not:

- Folders: `backlog/tasks/`, then `backlog/completed/` (tasks Backlog.md moved out of the
  board once Done: they arrive done whatever their status line says) and
  `backlog/archive/tasks/` (tasks archived as no longer wanted: they arrive cancelled unless
  they say Done; `metadata.backlog_folder` says which). Drafts, milestones, decisions and
  documents are other kinds: skipped and counted. The path may be the project, its
  `backlog/` (or `.backlog/`) folder, or `backlog/tasks/`.
- Ids are kept as the file writes them (`backlog:BACK-12`, `backlog:task-3.1`); a reference
  matches an id exactly, ignoring case, or by its number (`task-355.01` finds `BACK-355.01`,
  as after a prefix change); a reference to nothing in the folder is an external reference.
  When two files carry one id (a task in `completed/` and another in `archive/`), the first
  by folder order keeps it and the other is known by its path (`backlog:archive/tasks/...`).
- Status: the shared rule (source_fields.py) with Backlog.md's "To Do", "In Progress", "Done",
  then config.yml's ordered `statuses` (first pending, last done, the rest in progress).
- A file without front matter, or with front matter that is not YAML, still arrives: its id,
  title and status come from the file name and whatever `key: value` lines can be read, and
  the file is named in ReadNotes.problems. Windows line endings and a byte-order mark are fine.
- Fields: see README "Coming from Backlog.md" for the table. Plan and notes go to `notes`,
  the Final Summary to `result`, acceptance criteria (and the Definition of Done) to
  `criteria` as `- [x] text` lines with metadata listing which are checked.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agentdeck.core.errors import ValidationError
from agentdeck.core.formats import source_fields as sf
from agentdeck.core.formats.files import NotRegularFile, read_regular_file
from agentdeck.core.formats.mirror import Incoming, ReadNotes
from agentdeck.core.models import TASK_TYPES

PREFIX = "backlog:"
MAX_TASK_FILE = 4 * 1024 * 1024  # one task file
MAX_CONFIG = 1024 * 1024
MAX_FILES = 100_000  # task files read from one folder
# Backlog.md's default board (src/constants): anything else goes by the shared rule.
BACKLOG_STATUS = {"to do": "pending", "in progress": "in_progress", "done": "done"}
# Backlog.md's default task types -> agentdeck's; the source's word is kept when it differs.
BACKLOG_TYPES = {
    "bug": "bug",
    "feature": "feature",
    "enhancement": "feature",
    "task": "task",
    "chore": "chore",
    "docs": "chore",
    "spike": "task",
    "epic": "epic",
}
# Folders with tasks, in the order their ids win (a task in tasks/ over its copy elsewhere).
TASK_FOLDERS = ("tasks", "completed", "archive/tasks")
# Folders of other kinds, counted as skipped.
OTHER_FOLDERS = {
    "drafts": "draft",
    "archive/drafts": "draft",
    "milestones": "milestone",
    "archive/milestones": "milestone",
    "decisions": "decision",
    "docs": "document",
}
# Front matter fields this reader gives a home; every other key is kept in metadata.
MAPPED_FIELDS = {
    "id",
    "title",
    "status",
    "assignee",
    "created_date",
    "updated_date",
    "labels",
    "dependencies",
    "parent_task_id",
    "parent",
    "priority",
    "type",
}
_SALVAGED = {"id", "title", "status", "priority", "type", "created_date", "updated_date"}
_SALVAGED |= {"parent_task_id", "parent"}
_FILE_ID = re.compile(r"^([A-Za-z]+)-([A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*)(?: - |\s*-\s*|\.md$)")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_EMPTY_FRONT = re.compile(r"\A---[ \t]*\n---[ \t]*(?:\n|\Z)")
_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t]*$")
_MARKER = re.compile(
    r"^\s*<!-- (SECTION:[A-Z][A-Z0-9_]*|COMMENTS|COMMENT|AC|DOD):(BEGIN|END) -->\s*$"
)
_CHECK = re.compile(r"^\s*[-*] \[([ xX])\] (?:#\d+ )?(.*)$")
_NUMBERED = re.compile(r"^(?:([A-Za-z]+)-)?(\d+(?:\.\d+)*)$")
_SECTIONS = {
    "description": "description",
    "acceptance criteria": "criteria",
    "definition of done": "dod",
    "implementation plan": "plan",
    "implementation notes": "notes",
    "notes": "notes",
    "notes & comments": "notes",
    "comments": "comments",
    "final summary": "summary",
}


@dataclass
class _Config:
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    default_status: str = "To Do"


@dataclass
class _Read:
    """One task file as read, before references are resolved."""

    item: Incoming
    ident: str  # the id as the file writes it
    dependencies: list[str]
    parent: str | None
    folder: str


def read_backlog(
    path: str | Path, *, status_map: dict[str, str] | None = None
) -> tuple[list[Incoming], ReadNotes]:
    """Every task of the Backlog.md folder at `path` as `Incoming` (ids `backlog:<id>`), and
    what was skipped, mapped, kept in metadata, referenced outside the folder or unreadable.
    Refuses (ValidationError) only a path that is not a Backlog.md folder, saying what it
    looks like; a bad file is read past and named in the notes."""
    overrides = sf.check_status_map(status_map)
    root, folders = _layout(Path(path))
    notes = ReadNotes()
    config = _config(root, notes) if root is not None else _Config()
    reads: list[_Read] = []
    for folder_name, folder in folders:
        for name in _task_files(folder, notes):
            where = f"{folder_name}/{name}" if folder_name else name
            read = _read_task(folder / name, where, folder_name, config, overrides, notes)
            if read is not None:
                reads.append(read)
    if root is not None:
        for sub, kind in OTHER_FOLDERS.items():
            _count_other(root / sub, kind, notes)
    _unique_ids(reads, notes)
    _resolve(reads, notes)
    items = [r.item for r in reads]
    sf.settle_links(items, notes)
    return items, notes


# -- the folder -----------------------------------------------------------------------------


def _layout(path: Path) -> tuple[Path | None, list[tuple[str, Path]]]:
    """The backlog root (None when only a bare folder of task files was named) and the task
    folders to read, by name relative to the root."""
    if not path.is_dir():
        raise ValidationError(
            f"{path}: not a Backlog.md folder: it looks like {sf.looks_like(path)}"
        )
    root: Path | None = None
    for candidate in (path / "backlog", path / ".backlog"):
        if (candidate / "tasks").is_dir() or (candidate / "config.yml").is_file():
            root = candidate
            break
    else:
        if (path / "tasks").is_dir() or (path / "config.yml").is_file():
            root = path
        elif path.name == "tasks" and _is_root(path.parent):
            root = path.parent
    if root is not None:
        folders = [(name, root / name) for name in TASK_FOLDERS if (root / name).is_dir()]
        return root, folders
    if any(_FILE_ID.match(name) and name.endswith(".md") for name in _names(path)):
        return None, [("", path)]
    raise ValidationError(
        f"{path}: not a Backlog.md folder (no backlog/tasks/ or task files like "
        f"'task-1 - Title.md'): it looks like {sf.looks_like(path)}"
    )


def _is_root(path: Path) -> bool:
    return (path / "config.yml").is_file() or any(
        (path / sub).is_dir() for sub in ("completed", "drafts", "archive")
    )


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries)[:MAX_FILES]
    except OSError:
        return []


def _task_files(folder: Path, notes: ReadNotes) -> list[str]:
    """The task files in `folder`, in id order; other Markdown files are counted as skipped."""
    out = []
    for name in _names(folder):
        if not name.lower().endswith(".md"):
            continue
        match = _FILE_ID.match(name)
        if match is None:
            if name.lower() != "readme.md":
                _skip(notes, "other Markdown file")
            continue
        if match.group(1).lower() == "draft":
            _skip(notes, "draft")
            continue
        out.append(name)
    return sorted(out, key=_id_order)


def _id_order(name: str) -> tuple[Any, ...]:
    match = _FILE_ID.match(name)
    body = match.group(2) if match else name
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[._-]", body))


def _count_other(folder: Path, kind: str, notes: ReadNotes) -> None:
    for name in _names(folder):
        if name.lower().endswith(".md") and name.lower() != "readme.md":
            _skip(notes, kind)


def _skip(notes: ReadNotes, kind: str) -> None:
    notes.skipped[kind] = notes.skipped.get(kind, 0) + 1


def _config(root: Path, notes: ReadNotes) -> _Config:
    """The board's statuses, priorities and default status from config.yml (or config.yaml,
    or the project's backlog.config.yml); Backlog.md's defaults when there is none or it
    cannot be read (said in the notes)."""
    config = _Config()
    for file in (root / "config.yml", root / "config.yaml", root.parent / "backlog.config.yml"):
        if not file.is_file():
            continue
        try:
            data = _yaml(
                _text(read_regular_file(file, MAX_CONFIG, file.name), file.name, notes), file.name
            )
        except ValidationError as exc:
            notes.problems.append(f"{exc.message}; using Backlog.md's default statuses")
            return config
        if not isinstance(data, dict):
            notes.problems.append(f"{file.name}: not a mapping; using Backlog.md's defaults")
            return config
        statuses = data.get("statuses")
        if isinstance(statuses, list) and statuses:
            config.statuses = [str(s) for s in statuses if isinstance(s, str | int)]
        priorities = data.get("priorities")
        if isinstance(priorities, list):
            config.priorities = [str(p) for p in priorities if isinstance(p, str | int)]
        if isinstance(data.get("default_status"), str) and data["default_status"].strip():
            config.default_status = data["default_status"]
        elif config.statuses:
            config.default_status = config.statuses[0]
        return config
    return config


# -- one task file --------------------------------------------------------------------------


def _text(data: bytes, where: str, notes: ReadNotes) -> str:
    """Bytes as text with LF line endings; bytes that are not UTF-8 become U+FFFD (noted)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        notes.problems.append(f"{where}: not all UTF-8 ({exc.reason}); odd bytes replaced")
        text = data.decode("utf-8", "replace")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _yaml(text: str, what: str = "front matter") -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise ValidationError(f"{what} is not valid YAML ({at}{problem})") from None
    except RecursionError:
        raise ValidationError(f"{what} is nested too deeply to read") from None
    if sf.too_big(value):
        raise ValidationError(f"{what} expands to too many values (YAML aliases)")
    return value


def _preprocess(front: str) -> str:
    """Backlog.md's own front matter fix-ups (parser.ts preprocessFrontmatter): `assignee:
    @alice`, `reporter: @bob` and `[@a, @b]` lists are quoted, since YAML reserves `@`."""
    out = []
    for line in front.split("\n"):
        match = re.match(r"^(\s*(?:assignee|reporter):\s*)(.*)$", line)
        if match:
            prefix, value = match.group(1), match.group(2).strip()
            flow = re.match(r"^\[(.*)\]\s*(#.*)?$", value)
            if flow:
                parts = [p.strip() for p in flow.group(1).split(",") if p.strip()]
                parts = [_quote(p) if p.startswith("@") else p for p in parts]
                line = f"{prefix}[{', '.join(parts)}]"
            elif value and value[0] not in "['\"-":
                line = prefix + _quote(value)
        out.append(line)
    return "\n".join(out)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _front_matter(text: str, where: str, notes: ReadNotes) -> tuple[dict[str, Any], str]:
    """The front matter as a mapping and the body after it. Missing or unreadable front
    matter gives what `key: value` lines can be read (or nothing), noted as a problem."""
    if _EMPTY_FRONT.match(text):
        return {}, text[_EMPTY_FRONT.match(text).end() :]  # type: ignore[union-attr]
    match = _FRONT.match(text)
    if match is None:
        notes.problems.append(f"{where}: no front matter; id and title taken from the file name")
        return {}, text
    raw = match.group(1)
    try:
        data = _yaml(_preprocess(raw))
    except ValidationError as exc:
        data = None
        why = exc.message
    else:
        why = "front matter is not a mapping"
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items()}, text[match.end() :]
    salvaged = _salvage(raw)
    salvaged["front_matter_as_written"] = raw
    notes.problems.append(f"{where}: {why}; read its plain `key: value` lines")
    return salvaged, text[match.end() :]


def _salvage(raw: str) -> dict[str, Any]:
    """The one-value fields (id, title, status, ...) of front matter YAML could not read, from
    their `key: value` lines, as text; the rest stays in `front_matter_as_written`."""
    out: dict[str, Any] = {}
    for line in raw.split("\n"):
        match = re.match(r"^([A-Za-z_][\w-]*):[ \t]*(\S.*?)\s*$", line)
        if match and match.group(1) in _SALVAGED and match.group(1) not in out:
            out[match.group(1)] = match.group(2).strip("'\"")
    return out


def _read_task(
    file: Path,
    where: str,
    folder: str,
    config: _Config,
    overrides: dict[str, str],
    notes: ReadNotes,
) -> _Read | None:
    try:
        data = read_regular_file(file, MAX_TASK_FILE, where)
    except NotRegularFile as exc:
        notes.problems.append(f"skipped {exc.message}")
        _skip(notes, "not a regular file")
        return None
    except ValidationError as exc:
        notes.problems.append(f"skipped {exc.message}")
        _skip(notes, "unreadable file")
        return None
    text = _text(data, where, notes)
    front, body = _front_matter(text, where, notes)
    name_match = _FILE_ID.match(file.name)
    file_id = f"{name_match.group(1)}-{name_match.group(2)}" if name_match else file.stem
    ident = sf.storable_id(front.get("id")) if front.get("id") not in (None, "") else ""
    ident = ident or file_id
    metadata: dict[str, Any] = {}
    file_title = file.stem.split(" - ", 1)[1].replace("-", " ") if " - " in file.stem else ident
    title, long_title = sf.title_of(front.get("title"), "")
    if not title:
        title = sf.title_of(file_title, ident)[0]
        if "title" in front or front:
            notes.problems.append(f"{where}: no title; used {title!r} from the file name")
    if long_title:
        sf.keep(metadata, notes, "title_as_written", long_title)

    raw_status = front.get("status")
    status_text = str(raw_status).strip() if isinstance(raw_status, str | int) else ""
    status_text = status_text or config.default_status
    status = sf.map_status(
        status_text, notes, table=BACKLOG_STATUS, overrides=overrides, ordered=config.statuses
    )
    moved = {"completed": "done", "archive/tasks": "cancelled"}.get(folder)
    if moved is not None and status not in ("done", "cancelled"):
        # Backlog.md moves only Done tasks to completed/, and archives the ones not wanted.
        notes.mapped[(status_text, status)] -= 1
        key = (f"{status_text} (in {folder}/)", moved)
        notes.mapped[key] = notes.mapped.get(key, 0) + 1
        status = moved
    if folder not in ("", "tasks"):
        metadata["backlog_folder"] = folder

    assignees = _as_list(front.get("assignee"))
    people = [sf.agent_name(a) for a in assignees]
    assignee = next((p for p in people if p), None)
    if len(assignees) > 1 or (assignees and assignee is None):
        sf.keep(metadata, notes, "assignee", assignees)

    labels, odd_labels = sf.label_set(_as_list(front.get("labels")))
    if odd_labels:
        sf.keep(metadata, notes, "labels_as_written", _as_list(front.get("labels")))

    priority = 2
    if front.get("priority") not in (None, ""):
        found = sf.priority_of(front.get("priority"), config.priorities)
        if found is None:
            sf.keep(metadata, notes, "priority", front.get("priority"))
        else:
            priority = found

    kind = "task"
    if front.get("type") not in (None, ""):
        raw_type = str(front.get("type")).strip().lower()
        kind = BACKLOG_TYPES.get(raw_type, raw_type if raw_type in TASK_TYPES else "task")
        if raw_type != kind:
            sf.keep(metadata, notes, "type", front.get("type"))

    for name, value in front.items():
        if name not in MAPPED_FIELDS and value not in (None, "", [], {}):
            sf.keep(metadata, notes, name, value)

    sections = _sections(body)
    criteria, checked = _checklist(sections.get("criteria", ""))
    dod, dod_checked = _checklist(sections.get("dod", ""))
    if checked is not None:
        metadata["acceptance_criteria"] = checked
    if dod:
        criteria = f"{criteria}\n\nDefinition of Done:\n{dod}".strip()
        metadata["definition_of_done"] = dod_checked
    notes_text = "\n\n".join(
        f"{label}:\n{sections[key]}"
        for key, label in (("plan", "Implementation plan"), ("notes", "Implementation notes"))
        if sections.get(key)
    )
    created = sf.when(front.get("created_date"))
    updated = sf.when(front.get("updated_date"))
    history: list[tuple[str, Any]] = []
    if created is not None:
        history.append(("pending", created))
    if status != "pending" and (updated or created) is not None:
        history.append((status, updated or created))
    item = Incoming(
        external_id=PREFIX + ident,
        title=title,
        status=status,
        where=where,
        description=sections.get("description", ""),
        criteria=criteria,
        priority=priority,
        assignee=assignee,
        created_at=created,
        comments=_comments(sections.get("comments", "")),
        labels=labels,
        type=kind,
        notes=notes_text,
        result=sections.get("summary", ""),
        source_status=status_text,
        history=history,
        updated_at=updated,
        closed_at=(updated or created) if status in ("done", "cancelled") else None,
        metadata=metadata,
    )
    parent = front.get("parent_task_id") or front.get("parent")
    return _Read(
        item,
        ident,
        [sf.storable_id(d) for d in _as_list(front.get("dependencies")) if _is_ref(d)],
        sf.storable_id(parent) if _is_ref(parent) else None,
        folder,
    )


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None]
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and str(value).strip() != ""
    )


# -- the body -------------------------------------------------------------------------------


def _sections(body: str) -> dict[str, str]:
    """The body's sections by key (description, criteria, dod, plan, notes, comments,
    summary). A section between BEGIN/END markers runs to its END marker, whatever headings
    it holds (a plan with `## Phase 1`); a bare one runs to the next `## ` heading outside a
    code fence. Text before the first heading, and sections of other names, join the
    description (with their heading), so nothing in the file is dropped; a section written
    twice is kept twice."""
    out: dict[str, list[str]] = {}
    lines = body.split("\n")
    current = "description"
    buffer: list[str] = []
    fenced = False

    def flush() -> None:
        text = "\n".join(buffer).strip("\n")
        if text.strip():
            out.setdefault(current, []).append(text.strip())
        buffer.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        heading = None if fenced else _HEADING.match(line)
        title = heading.group(1).strip() if heading else ""
        key = _SECTIONS.get(re.sub(r"\s*\(optional\)\s*$", "", title, flags=re.I).lower())
        if key is None:
            # Text, or a heading Backlog.md does not know: it stays in the section it is in.
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            buffer.append(line)
            index += 1
            continue
        flush()
        current = key
        index += 1
        while index < len(lines) and not lines[index].strip():
            index += 1
        begin = _MARKER.match(lines[index]) if index < len(lines) else None
        if begin is not None and begin.group(2) == "BEGIN":
            family = begin.group(1)
            depth, index = 1, index + 1
            while index < len(lines):
                marker = _MARKER.match(lines[index])
                if marker is not None and marker.group(1) == family:
                    depth += 1 if marker.group(2) == "BEGIN" else -1
                    if depth == 0:
                        break
                buffer.append(lines[index])
                index += 1
            index += 1
            flush()
            current = "description"  # text after the END marker is loose text
    flush()
    return {key: "\n\n".join(parts) for key, parts in out.items()}


def _checklist(text: str) -> tuple[str, list[dict[str, Any]] | None]:
    """Acceptance criteria as `- [x] text` lines (Backlog.md's `#N` numbers dropped; other
    lines kept as written), and each checkbox's number, text and state (None if none)."""
    if not text.strip():
        return "", None
    lines: list[str] = []
    boxes: list[dict[str, Any]] = []
    for line in text.split("\n"):
        match = _CHECK.match(line)
        if match is None:
            lines.append(line)
            continue
        checked = match.group(1) in "xX"
        lines.append(f"- [{'x' if checked else ' '}] {match.group(2).strip()}")
        boxes.append({"n": len(boxes) + 1, "text": match.group(2).strip(), "checked": checked})
    return "\n".join(lines).strip(), boxes


def _comments(text: str) -> list[tuple[str, str, Any]]:
    """The Comments section's entries (`author: @x`, `created: ...`, then the body between
    `---` lines) as (author, text, when); a section of another shape is one comment."""
    if not text.strip():
        return []
    out: list[tuple[str, str, Any]] = []
    lines = text.replace("<!-- COMMENT:BEGIN -->", "").replace("<!-- COMMENT:END -->", "")
    parts = re.split(r"^\s*---\s*$", lines, flags=re.M)
    if len(parts) < 3:
        return [("backlog", text.strip(), None)]
    for meta, comment in zip(parts[0::2], parts[1::2], strict=False):
        fields = dict(re.findall(r"^\s*(author|created):\s*(.*?)\s*$", meta, flags=re.M))
        if comment.strip():
            author = sf.agent_name(fields.get("author", "")) or "backlog"
            out.append((author, comment.strip(), sf.when(fields.get("created"))))
    return out


# -- references -----------------------------------------------------------------------------


def _unique_ids(reads: list[_Read], notes: ReadNotes) -> None:
    """The first file (tasks/, then completed/, then archive/) keeps an id; a later file with
    the same id (ignoring case) is known by its path."""
    seen: dict[str, str] = {}
    taken = {PREFIX.lower() + r.ident.lower() for r in reads}
    for read in reads:
        key = read.ident.lower()
        if key in seen:
            read.item.external_id = f"{PREFIX}{read.folder}/{read.ident}"
            if read.item.external_id.lower() in taken:
                read.item.external_id = PREFIX + read.item.where.removesuffix(".md")
            taken.add(read.item.external_id.lower())
            notes.problems.append(
                f"{read.item.where}: id {read.ident} is also {seen[key]}'s; "
                f"imported as {read.item.external_id}"
            )
        else:
            seen[key] = read.item.where


def _canonical(ref: str) -> str | None:
    match = _NUMBERED.match(ref.strip())
    if match is None:
        return None
    return ".".join(str(int(part)) for part in match.group(2).split("."))


def _resolve(reads: list[_Read], notes: ReadNotes) -> None:
    """Turn the files' dependency and parent references into the external ids of tasks in
    the folder; a reference to anything else is an external reference, reported."""
    exact: dict[str, list[_Read]] = {}
    folded: dict[str, list[_Read]] = {}
    by_number: dict[str, list[_Read]] = {}
    for r in reads:
        exact.setdefault(r.ident, []).append(r)
        folded.setdefault(r.ident.lower(), []).append(r)
        number = _canonical(r.ident)
        if number is not None:
            by_number.setdefault(number, []).append(r)

    def find(ref: str, folder: str) -> str | None:
        """The task `ref` names: by id, by id ignoring case, then by number; among several,
        the one in the referring file's folder, else the first by folder order."""
        number = _canonical(ref)
        for found in (exact.get(ref), folded.get(ref.lower()), by_number.get(number or "")):
            if not found:
                continue
            here = [r for r in found if r.folder == folder]
            if len(found) == 1 or len(here) == 1:
                return (here or found)[0].item.external_id
            if found is not by_number.get(number or ""):
                return found[0].item.external_id
        return None

    for read in reads:
        item = read.item
        for ref in read.dependencies:
            target = find(ref, read.folder)
            if target is None:
                item.external_refs.append(("dependency", ref))
                notes.external.append((item.external_id, ref))
            elif target not in item.blocked_by:
                item.blocked_by.append(target)
        if read.parent is not None:
            target = find(read.parent, read.folder)
            if target is None:
                item.external_refs.append(("parent", read.parent))
                notes.external.append((item.external_id, read.parent))
            elif target != item.external_id:
                item.parent = target

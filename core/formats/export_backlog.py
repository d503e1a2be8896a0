"""A board as a Backlog.md folder (https://github.com/MrLesk/Backlog.md), for leaving
agentdeck for Backlog.md as easily as arriving (`agentdeck export --format backlog`).

Writes `backlog/config.yml` and one `backlog/tasks/task-<n> - <Title>.md` per task, in the
shape Backlog.md's serializer writes (src/markdown/serializer.ts): YAML front matter (id
`TASK-<n>`, title, status, assignee `['@name']`, created_date, updated_date, labels,
dependencies, parent_task_id, priority, type) and the `## Description`, `## Acceptance
Criteria` (`- [x] #1 text` between `<!-- AC:BEGIN/END -->`), `## Implementation Notes` and
`## Final Summary` sections between their `<!-- SECTION:...:BEGIN/END -->` markers.

Statuses are the board's own words in config.yml's ordered `statuses` ("To Do", "In
Progress", "Review", "Escalated", "Failed", "Done", "Cancelled": those in use, with Backlog.md's
three defaults always), so nothing is merged away and the board reads back the same. Priorities
are high/medium/low, or Critical..Lowest (in config.yml's `priorities`) when the board uses
agentdeck's 0 or 4. Every task goes to `tasks/` (Backlog.md moves Done ones to `completed/`
itself when asked).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from agentdeck.core.errors import ValidationError

BACKLOG_STATUS = {
    "pending": "To Do",
    "in_progress": "In Progress",
    "review": "Review",
    "escalated": "Escalated",
    "failed": "Failed",
    "done": "Done",
    "cancelled": "Cancelled",
}
THREE = {0: "high", 1: "high", 2: "medium", 3: "low", 4: "low"}
FIVE = {0: "critical", 1: "high", 2: "medium", 3: "low", 4: "lowest"}
FIVE_LABELS = ["Critical", "High", "Medium", "Low", "Lowest"]
_CHECK = re.compile(r"^\s*[-*] \[([ xX])\] (?:#\d+ )?(.*)$")


def task_id(key: str) -> str:
    """A task key's Backlog.md id: `WEB-3` -> `TASK-3`."""
    return "TASK-" + key.rsplit("-", 1)[1]


def file_name(key: str, title: str) -> str:
    """The file Backlog.md would name the task (`task-3 - Wire-the-UI.md`), by its rules."""
    safe = re.sub(r'[<>:"/\\|?*]', "-", title)
    safe = re.sub(r"['(),!@#$%^&+=\[\]{};]", "", safe)
    safe = re.sub(r"-+", "-", re.sub(r"\s+", "-", safe)).strip("-")[:120].rstrip("-")
    return f"{task_id(key).lower()} - {safe or 'untitled'}.md"


def backlog_files(doc: dict[str, Any]) -> dict[str, str]:
    """The board in `doc` (native.export_board's document) as Backlog.md files, by path
    relative to the project folder (`backlog/config.yml`, `backlog/tasks/...`)."""
    tasks = doc["tasks"]
    used = {t["status"] for t in tasks} | {"pending", "in_progress", "done"}
    statuses = [word for status, word in BACKLOG_STATUS.items() if status in used]
    five = any(t["priority"] in (0, 4) for t in tasks)
    blockers: dict[str, list[str]] = {}
    for dep in doc["dependencies"]:
        blockers.setdefault(dep["task"], []).append(task_id(dep["blocked_by"]))
    comments: dict[str, list[dict[str, Any]]] = {}
    for event in doc["events"]:
        if event["task"] and (
            event["kind"] == "comment" or (event["kind"], event["subkind"]) == ("note", "comment")
        ):
            comments.setdefault(event["task"], []).append(event)
    config: dict[str, Any] = {
        "project_name": doc["board"]["name"] or doc["board"]["key"],
        "default_status": "To Do",
        "statuses": statuses,
        "labels": sorted({label for t in tasks for label in t["labels"]}),
        "date_format": "yyyy-mm-dd hh:mm",
        "task_prefix": "task",
    }
    if five:
        config["priorities"] = FIVE_LABELS
    files = {"backlog/config.yml": _dump(config)}
    names: set[str] = set()
    for task in tasks:
        name = file_name(task["key"], task["title"])
        if name.lower() in names:  # two titles that sanitise alike: the id keeps them apart
            name = f"{task_id(task['key']).lower()} - {task['key']}.md"
        names.add(name.lower())
        files[f"backlog/tasks/{name}"] = task_file(
            task, blockers, five, comments.get(task["key"], [])
        )
    return files


def task_file(
    task: dict[str, Any],
    blockers: dict[str, list[str]],
    five: bool,
    comments: list[dict[str, Any]] | None = None,
) -> str:
    """One task as a Backlog.md task file, with its comments (native export events)."""
    front: dict[str, Any] = {
        "id": task_id(task["key"]),
        "title": task["title"],
        "status": BACKLOG_STATUS[task["status"]],
        "assignee": [f"@{task['assignee']}"] if task["assignee"] else [],
        "created_date": _date(task["created_at"]),
    }
    if task["updated_at"]:
        front["updated_date"] = _date(task["updated_at"])
    front["labels"] = list(task["labels"])
    front["dependencies"] = blockers.get(task["key"], [])
    if task["parent"]:
        front["parent_task_id"] = task_id(task["parent"])
    front["priority"] = (FIVE if five else THREE)[task["priority"]]
    if task["type"] != "task":
        front["type"] = task["type"]
    parts = ["---", _dump(front).rstrip("\n"), "---", ""]
    if task["description"].strip():
        parts += _section("Description", "DESCRIPTION", task["description"])
    if task["criteria"].strip():
        parts += ["## Acceptance Criteria", "<!-- AC:BEGIN -->", _criteria(task["criteria"])]
        parts += ["<!-- AC:END -->", ""]
    notes = []
    if task.get("verification"):
        notes.append(f"Verification: {task['verification']}")
    if task.get("escalation_reason"):
        notes.append(f"Escalated: {task['escalation_reason']}")
    if notes:
        parts += _section("Implementation Notes", "NOTES", "\n\n".join(notes))
    if comments:
        parts += ["## Comments", "", "<!-- COMMENTS:BEGIN -->"]
        for n, comment in enumerate(comments):
            parts += [""] if n else []
            parts += [f"author: @{comment['actor']}", f"created: {_date(comment['created_at'])}"]
            parts += ["---", _comment_body(comment["text"]), "---"]
        parts += ["<!-- COMMENTS:END -->", ""]
    if task["result"].strip():
        parts += _section("Final Summary", "FINAL_SUMMARY", task["result"])
    return "\n".join(parts).rstrip("\n") + "\n"


def _section(title: str, marker: str, body: str) -> list[str]:
    text = _no_markers(body.replace("\r\n", "\n").strip())
    return [
        f"## {title}",
        "",
        f"<!-- SECTION:{marker}:BEGIN -->",
        text,
        f"<!-- SECTION:{marker}:END -->",
        "",
    ]


def _criteria(criteria: str) -> str:
    """Criteria as Backlog.md's numbered checklist: `- [x] text` lines keep their state, any
    other line becomes an unchecked item, blank lines go."""
    lines: list[str] = []
    for line in _no_markers(criteria.replace("\r\n", "\n")).split("\n"):
        if not line.strip():
            continue
        match = _CHECK.match(line)
        if match is not None:
            checked, text = match.group(1) in "xX", match.group(2).strip()
        else:
            checked, text = False, line.strip().removeprefix("- ").removeprefix("* ").strip()
        lines.append(f"- [{'x' if checked else ' '}] #{len(lines) + 1} {text}")
    return "\n".join(lines)


def _comment_body(text: str) -> str:
    """A comment as Backlog.md can hold it: a line of just `---` would end the comment, so it
    is written `- - -`; markers are defused."""
    body = _no_markers(text.replace("\r\n", "\n").strip()) or "(empty)"
    return re.sub(r"^\s*---\s*$", "- - -", body, flags=re.M)


def _no_markers(text: str) -> str:
    """Text with Backlog.md's section markers defused, so a task's words cannot end the
    section they are written into (`<!-- AC:END -->` becomes `<!- AC:END ->`)."""
    return re.sub(r"<!--(\s*[A-Z_:]+:(?:BEGIN|END)\s*)-->", r"<!-\1->", text)


def _date(value: str | None) -> str:
    """An ISO timestamp as Backlog.md writes dates: `2025-06-14 10:30` (UTC)."""
    return (value or "")[:16].replace("T", " ")


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def write_backlog(files: dict[str, str], out: Path) -> Path:
    """Write Backlog.md files under `out` (the project folder; `backlog/` is made in it, or
    `out` itself is used when it is called `backlog`); refuses a `backlog/` that already has
    tasks, so an export never overwrites a board someone keeps there."""
    base = out.parent if out.name == "backlog" else out
    target = base / "backlog"
    tasks = target / "tasks"
    if tasks.is_dir() and any(tasks.iterdir()):
        raise ValidationError(f"{tasks}: already has task files; export into an empty folder")
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x" if not path.exists() else "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return target

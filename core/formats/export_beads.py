"""A board as a beads `issues.jsonl` (https://github.com/steveyegge/beads), for leaving
agentdeck for beads as easily as arriving (`agentdeck export --format beads`).

One JSON object per line, with the fields of beads' `Issue` (internal/types/types.go): id,
title, description, acceptance_criteria, notes, status, priority, issue_type, assignee,
estimated_minutes, created_at, updated_at, started_at, closed_at, close_reason, labels,
dependencies `[{issue_id, depends_on_id, type, created_at}]`, comments `[{id, issue_id,
author, text, created_at}]` and metadata. It keeps beads' rules (`Issue.ValidateWithCustom`):
a title of 1-500 characters, priority 0-4, a built-in status, `closed_at` set exactly when
the status is `closed`, built-in dependency types.

Ids are the task keys in lower case (`web-3`), the form of beads' `<prefix>-<n>` ids.
Statuses: pending -> open, in_progress -> in_progress, review -> in_progress, escalated and
failed -> blocked, done and cancelled -> closed (the close_reason is the result, or says
cancelled). What beads has no field for (review, escalated, failed, cancelled, the agentdeck
key, verification) is kept in `metadata.agentdeck`.
"""

from __future__ import annotations

import json
from typing import Any

BEADS_STATUS = {
    "pending": "open",
    "in_progress": "in_progress",
    "review": "in_progress",
    "escalated": "blocked",
    "failed": "blocked",
    "done": "closed",
    "cancelled": "closed",
}
MAX_TITLE = 500  # beads refuses longer titles


def beads_id(key: str) -> str:
    """A task key as a beads id: `WEB-3` -> `web-3`."""
    return key.lower()


def beads_issues(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The board in `doc` (native.export_board's document) as beads issues, in task order."""
    blockers: dict[str, list[str]] = {}
    for dep in doc["dependencies"]:
        blockers.setdefault(dep["task"], []).append(dep["blocked_by"])
    comments: dict[str, list[dict[str, Any]]] = {}
    for event in doc["events"]:
        is_comment = event["kind"] == "comment" or (
            event["kind"] == "note" and event["subkind"] == "comment"
        )
        if is_comment and event["task"]:
            comments.setdefault(event["task"], []).append(event)
    return [_issue(task, blockers, comments) for task in doc["tasks"]]


def _issue(
    task: dict[str, Any], blockers: dict[str, list[str]], comments: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    key = task["key"]
    me = beads_id(key)
    status = BEADS_STATUS[task["status"]]
    created = task["created_at"]
    deps = [
        {"issue_id": me, "depends_on_id": beads_id(b), "type": "blocks", "created_at": created}
        for b in blockers.get(key, [])
    ]
    if task["parent"]:
        deps.append(
            {
                "issue_id": me,
                "depends_on_id": beads_id(task["parent"]),
                "type": "parent-child",
                "created_at": created,
            }
        )
    keep: dict[str, Any] = {"key": key}
    if task["status"] not in ("pending", "in_progress", "done"):
        keep["status"] = task["status"]
    for field in ("verification", "escalation_reason", "active_form"):
        if task.get(field):
            keep[field] = task[field]
    if task.get("skills"):
        keep["skills"] = task["skills"]
    title = task["title"]
    if len(title) > MAX_TITLE:
        keep["title"] = title
        title = title[: MAX_TITLE - 1] + "…"
    issue: dict[str, Any] = {
        "id": me,
        "title": title,
        "description": task["description"],
        "acceptance_criteria": task["criteria"],
        "status": status,
        "priority": task["priority"],
        "issue_type": task["type"],
        "assignee": task["assignee"] or "",
        "created_at": created,
        "updated_at": task["updated_at"] or created,
    }
    if task["estimate_hours"] is not None:
        issue["estimated_minutes"] = max(0, round(task["estimate_hours"] * 60))
    if task["started_at"]:
        issue["started_at"] = task["started_at"]
    if status == "closed":
        issue["closed_at"] = task["completed_at"] or task["updated_at"] or created
        reason = task["result"] or ""
        if task["status"] == "cancelled":
            reason = f"cancelled: {reason}" if reason else "cancelled"
        issue["close_reason"] = reason
    elif task["result"]:
        keep["result"] = task["result"]
    if task["labels"]:
        issue["labels"] = list(task["labels"])
    if deps:
        issue["dependencies"] = deps
    if comments.get(key):
        issue["comments"] = [
            {
                "id": str(n),
                "issue_id": me,
                "author": c["actor"],
                "text": c["text"],
                "created_at": c["created_at"],
            }
            for n, c in enumerate(comments[key], start=1)
        ]
    issue["metadata"] = {"agentdeck": keep}
    return {k: v for k, v in issue.items() if v not in ("", None) or k in ("priority",)}


def beads_jsonl(issues: list[dict[str, Any]]) -> str:
    """Issues as JSONL text, one compact object a line, as `bd export` writes them."""
    return "".join(json.dumps(i, ensure_ascii=False, separators=(",", ":")) + "\n" for i in issues)

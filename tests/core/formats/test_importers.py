"""Importing a Claude Code task directory and a beads JSONL export: what lands on the board,
re-imports that update instead of duplicating, and broken input refused with file and line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import CycleError, Deck, NotFoundError, ValidationError
from tests.conftest import START
from tests.core.formats.conftest import FIXTURES
from tests.core.helpers import Refused


def edit_json(path: Path, **changes: Any) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}, indent=2))


def edit_line(path: Path, issue_id: str, **changes: Any) -> None:
    lines = []
    for line in path.read_text().splitlines():
        issue = json.loads(line)
        lines.append(json.dumps({**issue, **changes}) if issue["id"] == issue_id else line)
    path.write_text("\n".join(lines) + "\n")


# -- Claude Code ---------------------------------------------------------------------------


def test_claude_tasks_land_with_statuses_owners_and_dependencies(
    team: Deck, claude_dir: Path
) -> None:
    imported = team.import_claude(claude_dir, actor="ann")
    tasks = imported.tasks
    assert (imported.board, imported.skipped) == ("SHOP", ())
    assert [t.key for t in tasks] == [f"SHOP-{n}" for n in range(1, 7)]
    by = {t.title: t for t in tasks}
    assert [(t.status, t.column, t.assignee) for t in tasks] == [
        ("done", "done", "team-lead"),
        ("in_progress", "in_progress", "frontend-dev"),
        ("in_progress", "in_progress", "backend-dev"),
        ("pending", "blocked", None),
        ("cancelled", "cancelled", "frontend-dev"),  # deleted in Claude Code
        ("pending", "blocked", "qa"),
    ]
    checkout = by["Wire checkout to the cart API"]
    assert checkout.blocked_by == ("SHOP-2", "SHOP-3")
    # 6.json lists no blockers; 4.json says it blocks 6.
    assert by["Write end-to-end tests for checkout"].blocked_by == ("SHOP-4",)
    assert team.task_detail("SHOP-2").blocked_by_all == (("SHOP-1", "done"),)
    assert by["Build the product list page"].active_form == "Building the product list page"
    assert by["Set up the project skeleton"].active_form == ""  # only work in progress has one
    assert checkout.description.startswith("Replace the mock cart")
    # No timestamps in the files: a task was created when its file was last written.
    assert [t.created_at for t in tasks] == [START - timedelta(hours=n) for n in range(1, 7)]
    agents = {a.name: a for a in team.list_agents("SHOP")}
    assert {"team-lead", "frontend-dev", "backend-dev", "qa"} <= set(agents)
    assert (agents["qa"].kind, agents["qa"].role) == ("agent", "imported")
    assert [t.key for t in team.list_tasks("SHOP")] == [
        "SHOP-1",
        "SHOP-2",
        "SHOP-3",
        "SHOP-4",
        "SHOP-6",
    ]
    # A human's first import is history: each task gets the status its file recorded, as an
    # `imported` status event.
    done_events = team.task_events("SHOP-1")
    assert [(e.kind, e.subkind, e.actor) for e in done_events] == [
        ("created", "", "ann"),
        ("status", "imported", "ann"),
    ]
    assert done_events[1].data == {"from": "pending", "to": "done", "verb": "import"}
    assert team.task_events("SHOP-5")[1].data["to"] == "cancelled"
    added = [e for e in team.events_since(0, board="SHOP") if e.kind == "agent"]
    assert [e.data["name"] for e in added] == ["backend-dev", "frontend-dev", "qa", "team-lead"]
    assert [h.key for h in team.search("Vite Prettier", board="SHOP")] == ["SHOP-1"]
    last = team.burndown("SHOP").points[-1]
    assert (last.open, last.scope) == (4, 5)


def test_claude_reimport_after_edits_updates_in_place(team: Deck, claude_dir: Path) -> None:
    team.import_claude(claude_dir, actor="ann")
    before = {t.key: t for t in team.list_tasks("SHOP", include_cancelled=True)}
    cursor = team.max_event_id()
    edit_json(claude_dir / "3.json", status="deleted")
    edit_json(claude_dir / "4.json", owner="frontend-dev")
    edit_json(claude_dir / "6.json", subject="Write Playwright tests for checkout")
    imported = team.import_claude(claude_dir, actor="ann")
    assert len(imported.tasks) == 6 and imported.skipped == ()
    after = {t.key: t for t in team.list_tasks("SHOP", include_cancelled=True)}
    assert list(after) == list(before)  # nothing duplicated
    assert after["SHOP-3"].status == "cancelled" and after["SHOP-3"].active_form == ""
    assert after["SHOP-4"].assignee == "frontend-dev"
    assert after["SHOP-4"].blocked_by == ("SHOP-2",)  # SHOP-3 cancelled
    assert after["SHOP-6"].title == "Write Playwright tests for checkout"
    changed = {k for k in after if after[k].version != before[k].version}
    assert changed == {"SHOP-3", "SHOP-4", "SHOP-6"}
    events = team.events_since(cursor)
    # Each change is the move or edit a human makes by hand, recorded as such.
    assert [(e.task, e.kind, e.subkind) for e in events] == [
        ("SHOP-6", "note", "sync"),
        ("SHOP-3", "status", "cancelled"),
        ("SHOP-4", "assigned", ""),
        ("SHOP-4", "message", "assignment"),
    ]
    assert events[0].text == "updated title"
    assert events[1].data == {"from": "in_progress", "to": "cancelled", "verb": "cancel"}
    assert events[1].text == "imported from claude (3.json)"
    inbox = team.inbox("frontend-dev", board="SHOP", mark_read=False)
    assert inbox[-1].text == "SHOP-4 is assigned to you"
    # Importing the same files again changes nothing.
    cursor = team.max_event_id()
    assert team.import_claude(claude_dir, actor="ann").skipped == ()
    assert team.max_event_id() == cursor


def test_a_human_reimport_does_not_finish_an_agents_work(team: Deck, claude_dir: Path) -> None:
    """Completing is its holder's move: a human's re-import saying a task another agent holds
    is done leaves it in progress, unblocks nothing, and says so."""
    team.import_claude(claude_dir, actor="ann")
    edit_json(claude_dir / "2.json", status="completed")
    imported = team.import_claude(claude_dir, actor="ann")
    [skip] = imported.skipped
    assert (skip.key, skip.wanted, skip.status) == ("SHOP-2", "done", "in_progress")
    assert "ann may not move it from in progress to done" in skip.reason
    assert "complete (its holder)" in skip.reason and "approve (a human)" in skip.reason
    assert team.get_task("SHOP-2").status == "in_progress"
    assert team.get_task("SHOP-4").blocked_by == ("SHOP-2", "SHOP-3")


def test_claude_task_deleted_later_is_cancelled_and_unblocks(team: Deck, claude_dir: Path) -> None:
    team.import_claude(claude_dir, actor="ann")
    edit_json(claude_dir / "2.json", status="deleted")
    edit_json(claude_dir / "3.json", status="deleted")
    team.import_claude(claude_dir, actor="ann")
    checkout = team.get_task("SHOP-4")
    assert (checkout.status, checkout.column, checkout.blocked_by) == ("pending", "ready", ())
    assert team.get_task("SHOP-3").status == "cancelled"


# A file that cannot be read is skipped and listed as a problem; the rest is imported.
CLAUDE_BROKEN = {
    "bad_json": "2.json: line 8: not JSON",
    "wrong_type": "2.json.blockedBy: expected a list",
    "bad_utf8": "2.json: line 4: not UTF-8",
}


@pytest.mark.parametrize("case", list(CLAUDE_BROKEN))
def test_a_broken_claude_file_is_skipped_and_reported_the_rest_imported(
    team: Deck, case: str
) -> None:
    imported = team.import_claude(FIXTURES / "claude_broken" / case, actor="ann")
    assert imported.summary is not None
    [problem] = imported.summary.problems
    assert problem.startswith(CLAUDE_BROKEN[case]) and problem.endswith("; file skipped")
    assert [t.title for t in imported.tasks] == ["Set up the project skeleton"]
    # Reported once on the board, not again when the same file is imported again.
    team.import_claude(FIXTURES / "claude_broken" / case, actor="ann")
    said = [e for e in team.events_since(0, board="SHOP") if e.subkind == "import_problem"]
    assert [e.text for e in said] == [f"claude: {problem}"]


def test_what_older_versions_refused_in_claude_files_now_imports(team: Deck) -> None:
    """An integer id, a status Claude Code does not write, and a blocker that is not in the
    list (its file deleted): taken, mapped by the rule, and kept as an external reference."""
    numeric = team.import_claude(FIXTURES / "claude_broken" / "numeric_id", actor="ann")
    assert [t.title for t in numeric.tasks][1] == "Build the product list page"
    assert team.task_detail(numeric.tasks[1].key).blocked_by_all == (
        (numeric.tasks[0].key, "done"),
    )
    status = team.import_claude(FIXTURES / "claude_broken" / "unknown_status", actor="ann")
    assert status.summary is not None and status.summary.mapped == (
        ("completed", "done", 1),
        ("done", "done", 1),
    )
    ref = team.import_claude(FIXTURES / "claude_broken" / "unknown_ref", actor="ann")
    assert ref.summary is not None
    assert ref.summary.external == (("claude:unknown_ref/2", "claude:unknown_ref/9"),)
    key = ref.tasks[1].key
    assert team.task_detail(key).links == (("blocks", "", "claude:unknown_ref/9"),)


def test_a_broken_edit_skips_that_file_and_mirrors_the_rest(team: Deck, claude_dir: Path) -> None:
    team.import_claude(claude_dir, actor="ann")
    edit_json(claude_dir / "3.json", status="completed")  # a good edit in the same batch...
    edit_json(claude_dir / "5.json", owner=["frontend-dev"])  # ...and a bad one
    imported = team.import_claude(claude_dir, actor="ann")
    assert imported.summary is not None
    assert imported.summary.problems == ("5.json.owner: expected text, got list; file skipped",)
    assert team.get_task("SHOP-5").status == "cancelled"  # left as it was
    assert [(s.key, s.wanted) for s in imported.skipped] == [("SHOP-3", "done")]  # its holder's


def test_a_dependency_cycle_is_refused_naming_the_source_ids(
    team: Deck, claude_dir: Path, refused: Refused, tmp_path: Path
) -> None:
    """Found by tests/fuzz: the refusal named board keys of tasks the rolled-back import never
    made ("SHOP-7 cannot wait on itself")."""
    edit_json(claude_dir / "1.json", blockedBy=["3"])  # 3 already waits on 1
    with refused(
        CycleError,
        "1.json: task claude:tasks/1 waits on itself: claude:tasks/1 -> claude:tasks/3 -> "
        "claude:tasks/1",
    ):
        team.import_claude(claude_dir, actor="ann")
    beads = tmp_path / "loop.jsonl"
    issue = {"id": "bd-1", "title": "Loop", "status": "open"}
    beads.write_text(json.dumps({**issue, "dependencies": [{"depends_on_id": "bd-1"}]}) + "\n")
    with refused(CycleError, "loop.jsonl:1: task beads:bd-1 waits on itself"):
        team.import_beads(beads, actor="ann")
    assert team.list_tasks("SHOP", include_cancelled=True) == []


def test_claude_import_needs_a_directory_and_a_known_actor(
    team: Deck, claude_dir: Path, refused: Refused, tmp_path: Path
) -> None:
    with refused(ValidationError, "not a directory"):
        team.import_claude(tmp_path / "nowhere", actor="ann")
    with refused(NotFoundError, "no agent 'mallory'"):
        team.import_claude(claude_dir, actor="mallory")


# -- beads ---------------------------------------------------------------------------------


def test_beads_issues_land_with_parents_dependencies_and_comments(
    team: Deck, beads_file: Path
) -> None:
    tasks = team.import_beads(beads_file, actor="ann").tasks
    key = {t.title: t.key for t in tasks}
    epic, schema, endpoints, ui, webhook, dark, proto = (t.key for t in tasks)
    assert [(t.status, t.column, t.priority, t.assignee) for t in tasks] == [
        ("pending", "blocked", 1, None),  # an epic waits on its open subtasks
        ("done", "done", 1, "alice"),
        ("in_progress", "in_progress", 2, "claude-backend"),
        ("pending", "blocked", 2, None),
        ("pending", "ready", 0, "claude-backend"),  # beads "blocked", but by nothing we track
        ("pending", "ready", 4, None),  # deferred
        ("cancelled", "cancelled", 3, None),  # tombstone
    ]
    assert key["Checkout UI"] == ui
    assert [t.parent for t in tasks] == [None, epic, epic, epic, None, None, None]
    assert set(team.task_detail(epic).subtasks) == {schema, endpoints, ui}
    assert (tasks[0].subtasks_done, tasks[0].subtasks_total) == (1, 3)
    # Only `blocks` blocks: `related` and `discovered-from` do not.
    assert team.get_task(ui).blocked_by == (endpoints,)
    assert team.get_task(webhook).blocked_by == ()
    assert team.task_detail(endpoints).blocked_by_all == ((schema, "done"),)
    assert [t.key for t in team.ready("SHOP")] == [webhook, dark]  # not the epic
    assert tasks[0].criteria == "All checkout traffic on the new flow"
    assert tasks[1].created_at == datetime(2025, 2, 10, 9, 5, tzinfo=UTC)
    comments = team.task_events(schema, kinds=["comment"])
    assert [(e.actor, e.text) for e in comments] == [
        ("alice", "Went with a JSONB column for line items."),
        ("Jane-Doe", "Reviewed: **looks good**, ship it."),  # a display name made a safe name
    ]
    assert comments[0].data == {"at": "2025-02-11T10:00:00+00:00"}
    assert [h.key for h in team.search("JSONB", board="SHOP")] == [schema]  # comments indexed
    assert proto not in [t.key for t in team.list_tasks("SHOP")]


def test_beads_reimport_after_edits_updates_in_place(team: Deck, beads_file: Path) -> None:
    tasks = team.import_beads(beads_file, actor="ann").tasks
    keys = {t.title: t.key for t in tasks}
    cursor = team.max_event_id()
    edit_line(beads_file, "bd-c3d5", status="closed", closed_at="2025-02-14T10:00:00Z")
    edit_line(beads_file, "bd-d4e6", priority=0, assignee="bob")
    skipped = team.import_beads(beads_file, actor="ann").skipped
    assert len(team.list_tasks("SHOP", include_cancelled=True)) == 7
    endpoints = team.get_task(keys["Implement cart endpoints"])
    ui = team.get_task(keys["Checkout UI"])
    # Closing claude-backend's work is its move, not ann's; assigning and prioritising are hers.
    assert endpoints.status == "in_progress"
    assert [(k.key, k.wanted, k.status) for k in skipped] == [
        (endpoints.key, "done", "in_progress")
    ]
    assert (ui.priority, ui.assignee, ui.column) == (0, "bob", "blocked")
    events = team.events_since(cursor)
    assert [(e.kind, e.subkind, e.task) for e in events] == [
        ("agent", "added", None),
        ("assigned", "", ui.key),
        ("message", "assignment", ui.key),
        ("priority", "0", ui.key),
    ]
    assert events[0].data == {"name": "bob"}
    assert team.get_task(keys["Design the cart schema"]).version == tasks[1].version
    cursor = team.max_event_id()
    assert team.import_beads(beads_file, actor="ann").skipped == skipped  # reported again
    assert team.max_event_id() == cursor
    assert len(team.task_events(keys["Design the cart schema"], kinds=["comment"])) == 2


# A line that cannot be read is skipped and listed as a problem; the rest is imported.
BEADS_BROKEN = {
    "bad_json": "bad_json.jsonl:3: not JSON",
    "wrong_type": "wrong_type.jsonl:2.priority: expected a whole number",
    "bad_time": "bad_time.jsonl:2.created_at: 'last Tuesday'",
    "missing_dep_target": "missing_dep_target.jsonl:3: dependencies[0].depends_on_id: missing",
    "bad_utf8": "bad_utf8.jsonl:3: not UTF-8",
}


@pytest.mark.parametrize("case", list(BEADS_BROKEN))
def test_a_broken_beads_line_is_skipped_and_reported_naming_file_and_line(
    team: Deck, case: str
) -> None:
    imported = team.import_beads(FIXTURES / "beads_broken" / f"{case}.jsonl", actor="ann")
    assert imported.summary is not None
    [problem] = imported.summary.problems
    assert problem.startswith(BEADS_BROKEN[case]), problem
    assert len(imported.tasks) >= 1


def test_beads_unknown_statuses_and_references_are_mapped_and_kept(team: Deck) -> None:
    status = team.import_beads(FIXTURES / "beads_broken" / "unknown_status.jsonl", actor="ann")
    assert status.summary is not None and ("wontfix", "cancelled", 1) in status.summary.mapped
    ref = team.import_beads(FIXTURES / "beads_broken" / "unknown_ref.jsonl", actor="ann")
    assert ref.summary is not None
    assert [r for _, r in ref.summary.external] == ["beads:bd-9999"]


def test_beads_a_missing_file_duplicates_and_out_of_range_priority(
    team: Deck, beads_file: Path, refused: Refused, tmp_path: Path
) -> None:
    with refused(ValidationError, "no such file"):
        team.import_beads(tmp_path / "missing.jsonl", actor="ann")
    edit_line(beads_file, "bd-f6a8", priority=7)
    imported = team.import_beads(beads_file, actor="ann")
    dark = next(t for t in imported.tasks if t.title == "Dark mode for checkout")
    assert dark.priority == 4 and team.task_detail(dark.key).metadata["priority"] == 7
    edit_line(beads_file, "bd-f6a8", priority=4, id="bd-a1f3")
    again = team.import_beads(beads_file, actor="ann")
    assert again.summary is not None
    assert again.summary.problems == (
        "issues.jsonl:6: task id 'beads:bd-a1f3' appears twice; the first is imported",
    )


def test_beads_a_time_with_no_utc_equivalent_skips_the_line(team: Deck, beads_file: Path) -> None:
    """Found by tests/fuzz: year 1 at +05:00 is before year 1 in UTC, and storing it crashed."""
    edit_line(beads_file, "bd-f6a8", created_at="0001-01-01T00:00:00+05:00")
    imported = team.import_beads(beads_file, actor="ann")
    assert imported.summary is not None
    [problem] = imported.summary.problems
    assert problem.startswith("issues.jsonl:6.created_at") and "out of range in UTC" in problem


def test_imported_tasks_follow_existing_ones(team: Deck, beads_file: Path) -> None:
    team.add_task("Written by hand", actor="ann")
    tasks = team.import_beads(beads_file, actor="ann").tasks
    assert [t.key for t in tasks][:2] == ["SHOP-2", "SHOP-3"]
    assert team.get_task("SHOP-1").title == "Written by hand"

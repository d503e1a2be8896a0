"""Imports go through the lifecycle: an import file is no credential, so whoever imports it
changes tasks only by the moves they could make by hand, and what they may not do is left
alone and reported per task. Written as an agent trying to use an import to skip review,
cancel, or take or hand out work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck, PermissionDeniedError, ValidationError
from agentdeck.core.models import Imported, Skipped
from tests.core.helpers import Refused


def edit_json(path: Path, **changes: Any) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}, indent=2))


def edit_line(path: Path, issue_id: str, **changes: Any) -> None:
    lines = []
    for line in path.read_text().splitlines():
        issue = json.loads(line)
        lines.append(json.dumps({**issue, **changes}) if issue["id"] == issue_id else line)
    path.write_text("\n".join(lines) + "\n")


def write_task(folder: Path, task_id: str, status: str, owner: str = "") -> None:
    doc = {"id": task_id, "subject": f"Task {task_id}", "status": status, "owner": owner}
    (folder / f"{task_id}.json").write_text(json.dumps(doc))


def board_state(deck: Deck, board: str = "SHOP") -> dict[str, tuple[str, str | None, int]]:
    return {
        t.key: (t.status, t.assignee, t.version)
        for t in deck.list_tasks(board, include_cancelled=True)
    }


def by_key(imported: Imported) -> dict[str, Skipped]:
    return {s.key: s for s in imported.skipped}


def test_an_agent_reimport_cannot_finish_cancel_or_take_work(
    mirrored: Deck, claude_dir: Path
) -> None:
    edit_json(claude_dir / "2.json", status="completed")  # frontend-dev's work, done
    edit_json(claude_dir / "3.json", owner="mallory")  # backend-dev's work, now mallory's
    edit_json(claude_dir / "4.json", status="deleted")  # a pending task, cancelled
    edit_json(claude_dir / "6.json", status="in_progress")  # qa's pending task, started
    before, cursor = board_state(mirrored), mirrored.max_event_id()
    imported = mirrored.import_claude(claude_dir, actor="mallory")
    assert board_state(mirrored) == before
    assert mirrored.events_since(cursor) == []
    assert mirrored.get_agent("mallory", "SHOP").current_task is None
    skipped = by_key(imported)
    assert {(s.key, s.wanted, s.status) for s in skipped.values()} == {
        ("SHOP-2", "done", "in_progress"),
        ("SHOP-3", "assigned to mallory", "in_progress"),
        ("SHOP-4", "cancelled", "pending"),
        ("SHOP-6", "in_progress", "pending"),
    }
    assert "complete (its holder)" in skipped["SHOP-2"].reason
    assert "under backend-dev" in skipped["SHOP-3"].reason
    assert "cancel (a human)" in skipped["SHOP-4"].reason
    assert "claim (by qa, for itself)" in skipped["SHOP-6"].reason


def test_a_task_in_review_is_approved_only_by_a_human(mirrored: Deck, claude_dir: Path) -> None:
    """Neither another agent nor the task's own holder can skip review by re-importing it as
    done; a human's re-import may, and it is recorded as that human's approval."""
    mirrored.submit("SHOP-2", actor="frontend-dev", result="Grid done")
    edit_json(claude_dir / "2.json", status="completed")
    for agent in ("mallory", "frontend-dev"):
        cursor = mirrored.max_event_id()
        [skip] = mirrored.import_claude(claude_dir, actor=agent).skipped
        assert (skip.key, skip.wanted, skip.status) == ("SHOP-2", "done", "review")
        assert "approve (a human)" in skip.reason
        assert mirrored.get_task("SHOP-2").status == "review"
        assert mirrored.events_since(cursor) == []
    cursor = mirrored.max_event_id()
    assert mirrored.import_claude(claude_dir, actor="ann").skipped == ()
    assert mirrored.get_task("SHOP-2").status == "done"
    [approval] = [e for e in mirrored.events_since(cursor) if e.task == "SHOP-2"]
    assert (approval.kind, approval.subkind, approval.actor) == ("approval", "approved", "ann")
    assert approval.data == {"from": "review", "to": "done", "verb": "approve"}
    assert approval.text == "imported from claude (2.json)"


def test_the_holder_makes_its_own_move_and_nothing_more(mirrored: Deck, claude_dir: Path) -> None:
    edit_json(claude_dir / "2.json", status="completed")  # frontend-dev's own work
    edit_json(claude_dir / "4.json", status="in_progress", owner="frontend-dev")  # still blocked
    cursor = mirrored.max_event_id()
    imported = mirrored.import_claude(claude_dir, actor="frontend-dev")
    assert mirrored.get_task("SHOP-2").status == "done"
    done = [e for e in mirrored.events_since(cursor) if e.task == "SHOP-2" and e.kind == "status"]
    assert [(e.subkind, e.actor, e.data["verb"]) for e in done] == [
        ("done", "frontend-dev", "complete")
    ]
    # SHOP-4 waits on backend-dev's SHOP-3: no claim, and handing it to itself is an assignment.
    skipped = by_key(imported)
    assert set(skipped) == {"SHOP-4"}
    assert mirrored.get_task("SHOP-4").status == "pending"
    assert mirrored.get_task("SHOP-4").assignee is None


def test_a_refused_second_move_undoes_the_first(deck: Deck, tmp_path: Path) -> None:
    """Claim then complete is refused at complete (the board requires verification evidence):
    the claim is undone too, with its event, and the rest of the import still lands."""
    deck.create_board("VER", "Verified", actor="ann", require_verification=True)
    deck.add_agent("mallory", actor="ann", board="VER")
    write_task(tmp_path, "1", "pending", owner="mallory")
    write_task(tmp_path, "2", "pending")
    deck.import_claude(tmp_path, actor="ann", board="VER")
    write_task(tmp_path, "1", "completed", owner="mallory")
    write_task(tmp_path, "3", "pending")
    cursor = deck.max_event_id()
    imported = deck.import_claude(tmp_path, actor="mallory", board="VER")
    [skip] = imported.skipped
    assert (skip.key, skip.wanted, skip.status) == ("VER-1", "done", "pending")
    assert "requires verification evidence" in skip.reason
    assert (deck.get_task("VER-1").status, deck.get_task("VER-1").version) == ("pending", 1)
    assert deck.get_agent("mallory", "VER").current_task is None
    assert [(e.task, e.kind) for e in deck.events_since(cursor)] == [("VER-3", "created")]


def test_an_agents_first_import_arrives_pending(team: Deck, claude_dir: Path) -> None:
    """New tasks from an agent are pending, never done or cancelled; the agent may start only
    what the file gives to it; agents the file names are not created on its word."""
    team.add_agent("mallory", actor="ann")
    write_task(claude_dir, "7", "in_progress", owner="mallory")
    imported = team.import_claude(claude_dir, actor="mallory")
    statuses = {t.key: t.status for t in team.list_tasks("SHOP", include_cancelled=True)}
    assert statuses == {**{f"SHOP-{n}": "pending" for n in range(1, 7)}, "SHOP-7": "in_progress"}
    assert team.get_task("SHOP-7").assignee == "mallory"
    assert {a.name for a in team.list_agents("SHOP")} == {"ann", "mallory"}
    assert {(s.key, s.wanted) for s in imported.skipped} == {
        ("SHOP-1", "done"),
        ("SHOP-1", "assigned to team-lead"),
        ("SHOP-2", "in_progress"),
        ("SHOP-2", "assigned to frontend-dev"),
        ("SHOP-3", "in_progress"),
        ("SHOP-3", "assigned to backend-dev"),
        ("SHOP-5", "cancelled"),
        ("SHOP-5", "assigned to frontend-dev"),
        ("SHOP-6", "assigned to qa"),
    }
    reasons = {s.reason for s in imported.skipped if s.wanted == "assigned to qa"}
    assert reasons == {
        "qa is not on board SHOP and only a human or the board's lead may add agents; "
        "left unassigned"
    }
    events = team.events_since(0, board="SHOP")
    assert not [e for e in events if e.subkind == "imported" or e.kind == "agent"][1:]
    [claimed] = [e for e in events if e.kind == "claimed"]
    assert (claimed.task, claimed.actor) == ("SHOP-7", "mallory")


def test_the_lead_adds_the_agents_a_file_names(deck: Deck, tmp_path: Path) -> None:
    deck.create_board("LED", "Led", actor="ann", lead="boss")
    write_task(tmp_path, "1", "pending", owner="newcomer")
    imported = deck.import_claude(tmp_path, actor="boss", board="LED")
    assert imported.skipped == ()
    assert deck.get_task("LED-1").assignee == "newcomer"
    assert deck.get_agent("newcomer", "LED").kind == "agent"


def test_an_agent_beads_reimport_cannot_close_or_cancel(mirrored: Deck, beads_file: Path) -> None:
    keys = {t.title: t.key for t in mirrored.import_beads(beads_file, actor="ann").tasks}
    edit_line(beads_file, "bd-c3d5", status="closed")  # claude-backend's work
    edit_line(beads_file, "bd-f6a8", status="tombstone")  # a pending task
    edit_line(beads_file, "bd-d4e6", assignee="mallory", priority=0)  # take it, and rush it
    before, cursor = board_state(mirrored), mirrored.max_event_id()
    skipped = mirrored.import_beads(beads_file, actor="mallory").skipped
    assert board_state(mirrored) == before
    assert mirrored.events_since(cursor) == []
    assert [(s.key, s.wanted, s.status) for s in skipped] == [
        (keys["Implement cart endpoints"], "done", "in_progress"),
        (keys["Checkout UI"], "assigned to mallory", "pending"),
        (keys["Checkout UI"], "priority 0", "pending"),
        (keys["Dark mode for checkout"], "cancelled", "pending"),
    ]
    assert "only a human or the board's lead may assign tasks" in skipped[1].reason


def test_a_human_reimport_sends_back_only_as_a_human_may(mirrored: Deck, claude_dir: Path) -> None:
    """Done back to pending is a reopen, with its notes in the agent's inbox; pending to in
    progress under another agent is that agent's claim, so it stays pending."""
    edit_json(claude_dir / "1.json", status="pending")
    edit_json(claude_dir / "6.json", status="in_progress")
    cursor = mirrored.max_event_id()
    [skip] = mirrored.import_claude(claude_dir, actor="ann").skipped
    assert (skip.key, skip.wanted, skip.status) == ("SHOP-6", "in_progress", "pending")
    reopened = [e for e in mirrored.events_since(cursor) if e.kind == "reopened"]
    assert [(e.task, e.actor, e.data["verb"]) for e in reopened] == [("SHOP-1", "ann", "reopen")]
    assert [m.text for m in mirrored.inbox("team-lead", board="SHOP")] == [
        "SHOP-1: imported from claude (1.json)"
    ]


# -- the native format ------------------------------------------------------------------------


def test_a_native_export_is_restored_only_by_a_human(
    mirrored: Deck, refused: Refused, claude_dir: Path
) -> None:
    mirrored.submit("SHOP-2", actor="frontend-dev")
    doc = json.loads(json.dumps(mirrored.export_board("SHOP")))
    for task in doc["tasks"]:
        task["status"] = "done"  # an agent's forged history: everything finished
    with refused(PermissionDeniedError, "only a human may import a board", "frontend-dev"):
        mirrored.import_board(doc, actor="frontend-dev", key="COPY")
    with refused(ValidationError, "board SHOP already exists"):
        mirrored.import_board(doc, actor="mallory")  # never into the existing board
    assert [b.key for b in mirrored.list_boards()] == ["SHOP"]
    copy = mirrored.import_board(doc, actor="ann", key="COPY")
    assert {t.status for t in mirrored.list_tasks(copy.key, include_cancelled=True)} == {"done"}


@pytest.mark.parametrize("actor", ["ann", "someone-new"])
def test_a_native_export_restores_history_for_its_human_or_a_newcomer(
    mirrored: Deck, actor: str
) -> None:
    doc = json.loads(json.dumps(mirrored.export_board("SHOP")))
    mirrored.import_board(doc, actor=actor, key="COPY")
    assert board_state(mirrored, "COPY") == {
        k.replace("SHOP", "COPY"): v for k, v in board_state(mirrored).items()
    }

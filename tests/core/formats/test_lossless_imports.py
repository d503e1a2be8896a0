"""Issue #16: nothing a user had is lost on the way in. A beads export shaped like real `bd
export` output (custom, hooked and pinned statuses, wisp dependencies not in the file, memory
and agent records, every dependency type) and a Claude Code home (two lists whose ids collide,
files deleted after completion, an internal task, integer ids, todos files) land with their
real times, labels, types, notes, estimates, results, links and metadata; importing again
changes nothing; a dry run changes nothing and says the same."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck, ValidationError
from agentdeck.core.formats import mirror
from agentdeck.core.storage.tables import task_link_t, task_t
from tests.conftest import START
from tests.core.formats.conftest import FIXTURES
from tests.core.helpers import Refused

REAL_WORLD = FIXTURES / "beads" / "real_world.jsonl"
CLAUDE_HOME = FIXTURES / "claude_home"
LIST_A, LIST_B = "5b1f0c2e-list-a", "9d7e4a10-list-b"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def beads_deck(team: Deck) -> Deck:
    team.import_source("beads", REAL_WORLD, actor="ann", board="SHOP")
    return team


def exported(deck: Deck) -> dict[str, object]:
    """The board's export, less the moment it was made."""
    doc = deck.export_board("SHOP")
    doc.pop("exported_at")
    return doc


def by_title(deck: Deck) -> dict[str, str]:
    return {t.title: t.key for t in deck.list_tasks("SHOP", include_cancelled=True)}


@pytest.fixture
def claude_home(tmp_path: Path) -> Path:
    """A copy of the Claude Code home, task file n of a list written n hours before START."""
    target = tmp_path / "claude"
    shutil.copytree(CLAUDE_HOME, target)
    for path in target.glob("**/*.json"):
        written = (
            START - timedelta(hours=int(path.stem) if path.stem.isdigit() else 9)
        ).timestamp()
        os.utime(path, (written, written))
    return target


# -- beads ---------------------------------------------------------------------------------


def test_a_real_world_beads_export_lands_whole(team: Deck) -> None:
    imported = team.import_source("beads", REAL_WORLD, actor="ann", board="SHOP")
    summary = imported.summary
    assert summary is not None and not summary.dry_run
    keys = by_title(team)
    assert len(keys) == 11  # 13 issues, less an agent and a message record
    assert dict(summary.skipped) == {"agent": 1, "memory": 2, "message": 1}
    assert {(k.kind, k.created) for k in summary.kinds} == {
        ("bug", 1), ("chore", 1), ("epic", 1), ("feature", 2), ("task", 6),
    }  # fmt: skip
    assert set(summary.mapped) >= {
        ("hooked", "in_progress", 1),
        ("pinned", "pending", 1),
        ("in_review", "in_progress", 1),  # custom: "review" is work under way
        ("needs-sign-off", "pending", 1),  # custom, no rule word: pending
        ("tombstone", "cancelled", 1),
        ("closed", "done", 2),
    }
    assert sorted(ref for _, ref in summary.external) == [
        "beads:external:ops:inc-311",
        "beads:sh-wisp-2kd8",
        "beads:sh-wisp-7qx2",
    ]
    assert summary.problems == ()
    # Statuses, with when they really happened.
    adapter = team.get_task(keys["Write the provider adapter"])
    assert (adapter.status, adapter.created_at) == ("done", at("2025-01-05T09:10:00Z"))
    assert (adapter.started_at, adapter.completed_at) == (
        at("2025-01-06T08:00:00Z"),
        at("2025-01-09T17:30:00Z"),
    )
    assert adapter.result == "Merged in #412"
    assert adapter.estimate_hours == 4
    assert adapter.assignee == "Maya-Lin"
    history = [
        (e.data["to"], e.created_at) for e in team.task_events(adapter.key, kinds=["status"])
    ]
    assert history == [
        ("in_progress", at("2025-01-06T08:00:00Z")),
        ("done", at("2025-01-09T17:30:00Z")),
    ]
    migrate = team.get_task(keys["Migrate stored cards"])
    assert (migrate.status, migrate.assignee) == ("in_progress", "beads-polecats-obsidian")
    assert team.get_task(keys["Switch merchants over"]).status == "in_progress"
    assert team.get_task(keys["On-call handbook"]).status == "pending"
    assert team.get_task(keys["Remove the legacy invoice PDF"]).status == "cancelled"
    # Words: notes and design under a Notes heading, criteria, labels, types.
    epic = team.get_task(keys["Payments: move to the new provider"])
    assert epic.type == "epic" and epic.labels == ("payments", "q1")
    assert epic.description == (
        "Epic for the provider switch.\n\n## Notes\n\n### Design\n\n"
        "Adapter behind PaymentGateway; feature flag per merchant."
    )
    assert epic.criteria.startswith("All merchants on the new provider")
    webhook = team.get_task(keys["Refund webhook drops events under load"])
    assert webhook.type == "bug" and webhook.labels == ("incident", "needs-review", "payments")
    assert webhook.description.endswith(
        "## Notes\n\nSeen in prod on 2025-01-12; see the trace in the incident doc."
    )
    assert team.get_task(keys["Load-test the refund path"]).type == "feature"  # a story
    decision = team.task_detail(keys["Decide on the retry policy"])
    assert decision.task.type == "task" and decision.metadata["issue_type"] == "decision"
    assert decision.task.result == "Exponential, capped at 5 tries"
    # Parents, blocking dependency types, and links for the others.
    assert team.task_detail(epic.key).subtasks == tuple(
        keys[t] for t in ("Write the provider adapter", "Migrate stored cards",
                          "Switch merchants over", "Revoke the old provider keys")
    )  # fmt: skip
    switch = team.task_detail(keys["Switch merchants over"])
    assert switch.blocked_by_all == ((migrate.key, "in_progress"),)  # waits-for blocks
    revoke = team.task_detail(keys["Revoke the old provider keys"])
    assert revoke.blocked_by_all == ((switch.task.key, "in_progress"),)  # conditional-blocks
    assert team.task_detail(migrate.key).blocked_by_all == ((adapter.key, "done"),)
    assert team.task_detail(migrate.key).links == (("blocks", "", "beads:sh-wisp-7qx2"),)
    assert team.task_detail(webhook.key).links == (
        ("discovered-from", adapter.key, "beads:sh-k2p.1"),
        ("tracks", "", "beads:external:ops:inc-311"),
    )
    old_test = team.task_detail(keys["Old checkout A/B test"])
    assert old_test.links == (
        ("duplicates", decision.task.key, "beads:sh-3hd"),
        ("supersedes", webhook.key, "beads:sh-9fz"),
    )
    assert old_test.metadata == {"defer_until": "2025-04-01T00:00:00Z"}
    assert team.task_detail(keys["Remove the legacy invoice PDF"]).metadata == {
        "deleted_at": "2024-12-20T10:00:00Z",
        "deleted_by": "maya",
        "delete_reason": "duplicate of sh-k2p.4",
        "original_type": "task",
    }
    comments = team.task_events(adapter.key, kinds=["comment"])
    assert [(c.actor, c.text) for c in comments] == [
        ("Maya-Lin", "Idempotency keys on every call.")
    ]


def test_the_burndown_and_report_show_when_work_really_finished(beads_deck: Deck) -> None:
    """Closed in January, imported on March 3: the flow has the done minutes in January."""
    with beads_deck.engine.connect() as conn:
        done = (
            conn.execute(sa.text("SELECT minute FROM flow WHERE done > 0 ORDER BY minute"))
            .scalars()
            .all()
        )
    minutes = [datetime.fromtimestamp(m * 60, UTC) for m in done]
    assert minutes == [at("2025-01-09T17:30:00Z"), at("2025-01-10T12:00:00Z")]
    report = beads_deck.report("SHOP", sections=["done"])
    assert "2025-01-10" in report and "2025-01-09" in report


def test_reimporting_changes_nothing_and_says_unchanged(beads_deck: Deck) -> None:
    cursor = beads_deck.max_event_id()
    before = exported(beads_deck)
    again = beads_deck.import_source("beads", REAL_WORLD, actor="ann", board="SHOP")
    assert again.summary is not None
    assert (again.summary.created, again.summary.updated, again.summary.unchanged) == (0, 0, 11)
    assert beads_deck.max_event_id() == cursor
    assert exported(beads_deck) == before


def test_a_dry_run_changes_nothing_and_says_what_the_real_run_does(
    team: Deck, tmp_path: Path
) -> None:
    before = exported(team)
    cursor = team.max_event_id()
    dry = team.import_source("beads", REAL_WORLD, actor="ann", board="SHOP", dry_run=True)
    assert exported(team) == before and team.max_event_id() == cursor
    with team.engine.connect() as conn:  # links and metadata are not in the export
        assert conn.execute(sa.select(sa.func.count()).select_from(task_link_t)).scalar() == 0
    real = team.import_source("beads", REAL_WORLD, actor="ann", board="SHOP")
    assert dry.summary is not None and real.summary is not None
    assert dry.summary.dry_run and not real.summary.dry_run
    assert dry.summary.to_dict() | {"dry_run": False} == real.summary.to_dict()
    # A dry run that would make the board makes nothing either.
    boards = team.list_boards()
    made = team.import_source(
        "beads", REAL_WORLD, actor="ann", board="NEW", create=True, dry_run=True
    )
    assert made.summary is not None and made.summary.created_board
    assert team.list_boards() == boards


def test_create_makes_the_board_named_after_the_source(deck: Deck, refused: Refused) -> None:
    imported = deck.import_source("beads", REAL_WORLD, actor="ann", board="pay", create=True)
    assert imported.summary is not None and imported.summary.created_board
    board = deck.get_board("PAY")
    assert (board.name, len(deck.list_tasks("PAY", include_cancelled=True))) == (
        "Imported from beads",
        11,
    )
    assert "ann" in [a.name for a in deck.list_agents("PAY")]
    again = deck.import_source("beads", REAL_WORLD, actor="ann", board="PAY", create=True)
    assert again.summary is not None and not again.summary.created_board
    with refused(ValidationError, "--create needs --board KEY"):
        deck.import_source("beads", REAL_WORLD, actor="ann", create=True)


def test_a_board_imported_before_namespacing_is_updated_not_duplicated(
    beads_deck: Deck,
) -> None:
    """Boards from earlier versions hold bare ids (`sh-9fz`, not `beads:sh-9fz`)."""
    with beads_deck.engine.begin() as conn:
        conn.execute(task_t.update().values(external_id=sa.func.substr(task_t.c.external_id, 7)))
    again = beads_deck.import_source("beads", REAL_WORLD, actor="ann", board="SHOP")
    assert again.summary is not None and again.summary.created == 0
    assert len(beads_deck.list_tasks("SHOP", include_cancelled=True)) == 11
    with beads_deck.engine.connect() as conn:
        ids = conn.execute(sa.select(task_t.c.external_id)).scalars().all()
    assert all(i.startswith("beads:") for i in ids)  # taken over by the namespaced ids


def test_map_status_overrides_and_an_edit_updates_in_place(
    beads_deck: Deck, tmp_path: Path
) -> None:
    keys = by_title(beads_deck)
    lines = [json.loads(line) for line in REAL_WORLD.read_text().splitlines()]
    for line in lines:
        if line.get("id") == "sh-k2p.4":
            line.update(labels=["ops"], notes="Needs the CFO", estimated_minutes=30)
        if line.get("id") == "sh-3hd":
            line["dependencies"] = []  # the related link is gone
    edited = tmp_path / "issues.jsonl"
    edited.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    table = mirror.parse_status_map(["needs-sign-off=in_progress"])
    out = beads_deck.import_source("beads", edited, actor="ann", board="SHOP", status_map=table)
    assert out.summary is not None
    assert ("needs-sign-off", "in_progress", 1) in out.summary.mapped
    revoke = beads_deck.get_task(keys["Revoke the old provider keys"])
    assert (revoke.labels, revoke.estimate_hours) == (("ops",), 0.5)
    assert revoke.description == "## Notes\n\nNeeds the CFO"
    # ann may not claim for nobody: the status is left alone and said so.
    assert [(s.key, s.wanted) for s in out.skipped] == [(revoke.key, "in_progress")]
    assert beads_deck.task_detail(keys["Decide on the retry policy"]).links == ()
    assert (out.summary.updated, out.summary.created) == (2, 0)
    notes = beads_deck.task_events(revoke.key, kinds=["note"])
    assert notes[-1].text == "updated description, estimate_hours, labels"


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["hooked"], "--map-status takes FROM=TO"),
        (["hooked=review"], "'review' is not one of pending, in_progress, done, cancelled"),
    ],
)
def test_map_status_is_checked(pairs: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        mirror.parse_status_map(pairs)


def test_empty_and_wrong_kind_files_say_so(team: Deck, tmp_path: Path, refused: Refused) -> None:
    empty = tmp_path / "issues.jsonl"
    empty.write_text("\n")
    with refused(ValidationError, "issues.jsonl: empty: no beads issues in it"):
        team.import_source("beads", empty, actor="ann", board="SHOP")
    taskmaster = tmp_path / "tasks.json"
    taskmaster.write_text(json.dumps({"master": {"tasks": [{"id": 1, "title": "x"}]}}, indent=2))
    with refused(
        ValidationError,
        "this looks like a Taskmaster tasks.json; use `agentdeck import taskmaster FILE`",
    ):
        team.import_source("beads", taskmaster, actor="ann", board="SHOP")
    with refused(ValidationError, "this looks like a beads export"):
        team.import_source("claude", REAL_WORLD, actor="ann", board="SHOP")
    with refused(ValidationError, "this looks like a Claude Code task list"):
        team.import_source(
            "beads", CLAUDE_HOME / "tasks" / LIST_A / "2.json", actor="ann", board="SHOP"
        )
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    with refused(ValidationError, "no Claude Code tasks in it"):
        team.import_source("claude", empty_dir, actor="ann", board="SHOP")


# -- Claude Code ---------------------------------------------------------------------------


def test_the_tasks_folder_imports_every_list_apart(team: Deck, claude_home: Path) -> None:
    imported = team.import_source("claude", claude_home / "tasks", actor="ann", board="SHOP")
    summary = imported.summary
    assert summary is not None
    titles = {t.title: t for t in imported.tasks}
    assert set(titles) == {
        "Add the orders table migration",
        "Expose GET /orders",
        "Write the orders API tests",
        "Profile the slow dashboard query",
        "Add the missing index",
    }
    assert dict(summary.skipped) == {"internal task": 1}
    # Two lists' task "2" stay two tasks.
    with team.engine.connect() as conn:
        ids = sorted(conn.execute(sa.select(task_t.c.external_id)).scalars())
    assert ids == [
        f"claude:{LIST_A}/2", f"claude:{LIST_A}/3", f"claude:{LIST_A}/4",
        f"claude:{LIST_B}/1", f"claude:{LIST_B}/2",
    ]  # fmt: skip
    # 1.json of list A was completed and deleted by Claude Code: kept as a reference.
    assert sorted(summary.external) == [
        (f"claude:{LIST_A}/2", f"claude:{LIST_A}/1"),
        (f"claude:{LIST_A}/4", f"claude:{LIST_A}/1"),
    ]
    tests = titles["Write the orders API tests"]
    assert tests.blocked_by == (titles["Expose GET /orders"].key,)
    assert team.task_detail(tests.key).links == (("blocks", "", f"claude:{LIST_A}/1"),)
    assert team.task_detail(titles["Expose GET /orders"].key).metadata == {
        "feature": "orders",
        "estimate": "2h",
    }
    assert titles["Add the missing index"].blocked_by == ()  # list B's 1 is done
    assert team.task_detail(titles["Add the missing index"].key).blocked_by_all == (
        (titles["Profile the slow dashboard query"].key, "done"),
    )
    # When the file was last written is when the task was made, and finished.
    migration = titles["Add the orders table migration"]
    assert migration.completed_at == START - timedelta(hours=2)


def test_a_completed_task_whose_file_vanished_stays_completed(
    team: Deck, claude_home: Path
) -> None:
    folder = claude_home / "tasks" / LIST_A
    first = team.import_source("claude", folder, actor="ann", board="SHOP")
    done = next(t for t in first.tasks if t.title == "Add the orders table migration")
    (folder / "2.json").unlink()  # Claude Code deletes a completed task's file
    doc = json.loads((folder / "4.json").read_text())
    (folder / "4.json").write_text(json.dumps({**doc, "blockedBy": ["3", "2"]}))
    again = team.import_source("claude", folder, actor="ann", board="SHOP")
    assert again.summary is not None and again.summary.external == ()
    assert team.get_task(done.key).status == "done"
    tests = next(t for t in again.tasks if t.title == "Write the orders API tests")
    expose = next(t for t in again.tasks if t.title == "Expose GET /orders")
    assert team.task_detail(tests.key).blocked_by_all == (
        (done.key, "done"),
        (expose.key, "in_progress"),
    )


def test_todos_files_are_lists_of_their_own(team: Deck, claude_home: Path) -> None:
    imported = team.import_source("claude", claude_home / "todos", actor="ann", board="SHOP")
    assert [(t.title, t.status) for t in imported.tasks] == [
        ("Read the failing test output", "done"),
        ("Fix the off-by-one in pagination", "in_progress"),
        ("Run the whole suite", "pending"),
    ]
    assert imported.tasks[1].active_form == "Fixing the off-by-one in pagination"
    again = team.import_source("claude", claude_home / "todos", actor="ann", board="SHOP")
    assert again.summary is not None and again.summary.unchanged == 3


def test_a_list_mirrored_by_the_older_hook_is_matched(team: Deck, claude_home: Path) -> None:
    """The hook stored `<list>/<id>`; `import claude` of the same list updates those tasks."""
    folder = claude_home / "tasks" / LIST_B
    team.add_agent("coder", actor="ann")
    team.import_claude_session(folder, actor="coder", session=LIST_B, board="SHOP")
    with team.engine.begin() as conn:
        conn.execute(
            task_t.update().values(external_id=sa.func.replace(task_t.c.external_id, "claude:", ""))
        )
    again = team.import_source("claude", folder, actor="ann", board="SHOP")
    assert again.summary is not None and again.summary.created == 0
    assert len(team.list_tasks("SHOP", include_cancelled=True)) == 2


def test_a_parent_loop_is_kept_as_a_link_and_reported(team: Deck, tmp_path: Path) -> None:
    """Found by tests/fuzz: an issue that is its own parent failed the whole import."""
    loop = tmp_path / "issues.jsonl"
    deps = [{"depends_on_id": "bd-0", "type": "parent-child"}]
    loop.write_text(json.dumps({"id": "bd-0", "title": "Self", "dependencies": deps}) + "\n")
    imported = team.import_source("beads", loop, actor="ann", board="SHOP")
    assert imported.summary is not None
    assert imported.summary.problems == (
        "issues.jsonl:1: task beads:bd-0 cannot be a subtask of beads:bd-0 (that would be a "
        "loop); kept as a link",
    )
    key = imported.tasks[0].key
    assert team.task_detail(key).links == (("parent", key, "beads:bd-0"),)


PUBLIC_BEADS = FIXTURES / "beads_public" / "issues.jsonl"  # beads' own tracker, unchanged


def test_beads_own_tracker_file_imports_whole_and_again_unchanged(team: Deck) -> None:
    """135 lines of beads' own `.beads/issues.jsonl` (see the fixture's README): hooked,
    pinned and in-progress issues, agent, convoy and message records, and dependencies on
    issues the slice does not hold. Everything issue-like lands, with real finish times,
    records of other kinds are skipped and counted, and a second run changes nothing."""
    lines = [json.loads(line) for line in PUBLIC_BEADS.read_text().splitlines()]
    records = {"agent", "message"}
    issues = [d for d in lines if d.get("issue_type") not in records]
    imported = team.import_source("beads", PUBLIC_BEADS, actor="ann", board="SHOP")
    summary = imported.summary
    assert summary is not None and not summary.problems, summary.problems
    assert summary.created == len(issues)
    assert dict(summary.skipped) == {
        kind: sum(1 for d in lines if d.get("issue_type") == kind) for kind in records
    }
    mapped = {(src, to) for src, to, _ in summary.mapped}
    assert {("hooked", "in_progress"), ("pinned", "pending")} <= mapped
    assert summary.external  # dependencies on issues outside the file are kept, not refused
    tasks = {t.title: t for t in team.list_tasks("SHOP", include_cancelled=True, limit=None)}
    titles = [d["title"].strip() for d in issues]
    closed = [
        d
        for d in issues
        if d["status"] == "closed" and d.get("closed_at") and titles.count(d["title"].strip()) == 1
    ]
    assert closed
    for d in closed[:20]:
        task = tasks[d["title"].strip()]
        assert task.status == "done", (d["id"], task.status)
        assert task.completed_at == at(d["closed_at"]), d["id"]
    again = team.import_source("beads", PUBLIC_BEADS, actor="ann", board="SHOP")
    assert again.summary is not None
    assert (again.summary.created, again.summary.updated) == (0, 0)

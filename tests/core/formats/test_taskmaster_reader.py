"""Reading Taskmaster's tasks.json: the tagged and the legacy form with the shapes real files
have, every field landing, and messy files read past with each surprise noted."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentdeck.core import ValidationError
from agentdeck.core.formats.mirror import Incoming, ReadNotes, _check
from agentdeck.core.formats.taskmaster import read_taskmaster
from tests.core.formats.conftest import FIXTURES

TM = FIXTURES / "taskmaster"


def read(path: Path, **kwargs: object) -> tuple[dict[str, Incoming], ReadNotes]:
    items, notes = read_taskmaster(path, **kwargs)  # type: ignore[arg-type]
    checked = ReadNotes()  # what mirror.into_board refuses or drops: none of it may be left
    assert _check(items, "taskmaster", checked) == items and not checked.problems
    return {i.external_id: i for i in items}, notes


@pytest.fixture(scope="module")
def shaped() -> tuple[dict[str, Incoming], ReadNotes]:
    return read(TM / "tasks.json")


@pytest.fixture(scope="module")
def messy() -> tuple[dict[str, Incoming], ReadNotes]:
    return read(TM / "tasks-messy.json")


def test_every_tag_is_read_and_namespaced(shaped: tuple[dict[str, Incoming], ReadNotes]) -> None:
    tasks, notes = shaped
    assert len(tasks) == 173  # 31 tasks and 142 subtasks in four tags
    tags = {key.split(":", 1)[1].split("/", 1)[0] for key in tasks}
    assert tags == {"master", "cc-kiro-hooks", "tdd-phase-1-core-rails", "loop"}
    task = tasks["taskmaster:master/4"]
    assert (task.title, task.status, task.priority) == ("Task master 4", "done", 2)
    assert task.blocked_by == ["taskmaster:master/1", "taskmaster:master/3"]
    assert task.description == "Description of master 4"
    assert task.notes == "Details of master 4:\n- step one\n- step two"  # details -> notes
    assert task.criteria == "Test strategy of master 4"  # testStrategy -> criteria
    assert task.metadata == {"taskmaster_tag": "master"}
    assert tasks["taskmaster:master/1"].metadata["previousStatus"] == "in-progress"
    assert notes.mapped == {
        ("done", "done"): 103,
        ("pending", "pending"): 69,
        ("in-progress", "in_progress"): 1,
    }
    assert (notes.skipped, notes.external, notes.problems) == ({}, [], [])


def test_subtasks_and_the_three_ways_to_name_a_dependency(
    shaped: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks = shaped[0]
    # "2.2" names a subtask anywhere; a bare number in a subtask is a sibling
    sub = tasks["taskmaster:cc-kiro-hooks/2.4"]
    assert sub.parent == "taskmaster:cc-kiro-hooks/2"
    assert sub.blocked_by == ["taskmaster:cc-kiro-hooks/2.2", "taskmaster:cc-kiro-hooks/2.3"]
    assert tasks["taskmaster:master/4.4"].blocked_by == [
        "taskmaster:master/4.1",
        "taskmaster:master/4.3",
    ]
    # dependencies written as text ("1"), and tasks whose own ids are text
    rails = tasks["taskmaster:tdd-phase-1-core-rails/4"]
    assert rails.blocked_by == [f"taskmaster:tdd-phase-1-core-rails/{n}" for n in (1, 2, 3)]
    assert tasks["taskmaster:loop/3"].blocked_by == ["taskmaster:loop/1", "taskmaster:loop/2"]
    assert tasks["taskmaster:loop/3.2"].parent == "taskmaster:loop/3"
    # a subtask's `parentId: "undefined"` only echoes where it sits: not kept
    assert tasks["taskmaster:loop/3.1"].metadata == {"taskmaster_tag": "loop"}
    assert tasks["taskmaster:tdd-phase-1-core-rails/1.4"].status == "in_progress"


def test_complexity_and_timestamps(shaped: tuple[dict[str, Incoming], ReadNotes]) -> None:
    tasks, notes = shaped
    task = tasks["taskmaster:tdd-phase-1-core-rails/1"]
    assert isinstance(task.metadata["complexity"], int)
    assert task.metadata["expansionPrompt"] == "Expansion prompt of tdd-phase-1-core-rails 1"
    assert task.updated_at is not None and task.updated_at.tzinfo is not None
    assert task.history[-1] == ("done", task.updated_at) and task.closed_at == task.updated_at
    assert notes.kept == {
        "previousStatus": 1,
        "complexity": 11,
        "recommendedSubtasks": 11,
        "expansionPrompt": 11,
    }


def test_one_tag(shaped: tuple[dict[str, Incoming], ReadNotes]) -> None:
    tasks, notes = read(TM / "tasks.json", tag="loop")
    assert tasks.keys() == {k for k in shaped[0] if k.startswith("taskmaster:loop/")}
    assert notes.skipped == {"task in another tag": 26}
    with pytest.raises(ValidationError, match=r"no tag 'nope'.*it has master, cc-kiro-hooks"):
        read_taskmaster(TM / "tasks.json", tag="nope")


def test_the_legacy_form_is_the_master_tag() -> None:
    tasks, notes = read(TM / "tasks-legacy.json")
    assert list(tasks) == [
        "taskmaster:master/1",
        "taskmaster:master/2",
        "taskmaster:master/2.1",
        "taskmaster:master/2.2",
    ]
    assert tasks["taskmaster:master/2.2"].blocked_by == ["taskmaster:master/2.1"]
    assert tasks["taskmaster:master/2"].status == "in_progress"
    assert notes.skipped == {} and notes.problems == []


def test_every_field_of_a_rich_task(messy: tuple[dict[str, Incoming], ReadNotes]) -> None:
    task = messy[0]["taskmaster:master/1"]
    assert (task.title, task.description) == ("Café ☕ — naïve 日本語", "Ünïcödé 🎉")
    assert (task.status, task.priority, task.assignee) == ("done", 0, "alice")
    assert task.labels == ["good-first-issue", "ui"]
    assert task.criteria == (
        "- [ ] renders 日本語\n- [ ] no mojibake\n\nTest strategy:\nOpen it and look."
    )
    assert task.notes == "How: carefully."
    assert task.created_at == datetime(2025, 6, 1, 9, tzinfo=UTC)
    assert task.history == [("pending", task.created_at), ("done", task.updated_at)]
    assert task.closed_at == datetime(2025, 6, 3, 17, 30, tzinfo=UTC)
    assert task.metadata == {
        "taskmaster_tag": "master",
        "tags": ["ui", "good first issue"],
        "complexity": 7,
        "recommendedSubtasks": 3,
        "expansionPrompt": "Break it down by screen.",
        "complexityReasoning": "Many screens.",
        "metadata": {"jira": "WEB-12"},
        "effort": 5,
    }


def test_messy_entries_are_read_past_and_noted(
    messy: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks, notes = messy
    blocked = tasks["taskmaster:master/2"]
    assert (blocked.status, blocked.source_status) == ("pending", "blocked")
    assert blocked.blocked_by == ["taskmaster:master/1"]
    assert blocked.external_refs == [("dependency", "999"), ("dependency", "5.9")]
    assert blocked.metadata["priority"] == "urgent-ish" and blocked.priority == 2
    assert tasks["taskmaster:master/3"].title == "Task 3"
    assert tasks["taskmaster:master/3"].links == [
        ("depends-on (own parent)", "taskmaster:master/3")
    ]
    # sub 4.2: [1, "4.1", 7] is its sibling 4.1 (once) and the top-level task 7
    assert tasks["taskmaster:master/4.2"].blocked_by == [
        "taskmaster:master/4.1",
        "taskmaster:master/7",
    ]
    assert tasks["taskmaster:master/4.3"].links == [
        ("depends-on (own parent)", "taskmaster:master/4")
    ]
    assert tasks["taskmaster:master/5"].links == [("depends-on (cycle)", "taskmaster:master/4")]
    assert tasks["taskmaster:master/#6"].title == "Duplicate id 5"
    assert tasks["taskmaster:master/#8"].title == "No id at all"
    assert tasks["taskmaster:feature-x/1"].status == "in_progress"
    assert notes.skipped == {"tag without a task list": 2, "entry that is not a task": 2}
    assert notes.mapped[("on-hold", "pending")] == 1 and notes.mapped[("review", "review")] == 1
    assert notes.external == [("taskmaster:master/2", "999"), ("taskmaster:master/2", "5.9")]
    problems = "\n".join(notes.problems)
    for expected in (
        "tasks-messy.json: tag 'broken-tag': \"tasks\" is not a list",
        "master task 3: no title",
        "master task 6: id 5 appears twice",
        "master task 8: no id",
        "master task 4 subtask 4: not a task object",
    ):
        assert expected in problems


def test_status_map() -> None:
    tasks, notes = read(TM / "tasks-messy.json", status_map={"on-hold": "escalated"})
    assert tasks["taskmaster:master/3"].status == "escalated"
    assert notes.mapped[("on-hold", "escalated")] == 1


def test_a_project_folder_finds_its_file(tmp_path: Path) -> None:
    (tmp_path / ".taskmaster" / "tasks").mkdir(parents=True)
    shutil.copy(TM / "tasks-legacy.json", tmp_path / ".taskmaster" / "tasks" / "tasks.json")
    assert len(read(tmp_path)[0]) == 4
    (tmp_path / "other").mkdir()
    with pytest.raises(ValidationError, match=r"no Taskmaster tasks\.json here"):
        read_taskmaster(tmp_path / "other")


@pytest.mark.parametrize(
    ("name", "content", "looks"),
    [
        ("issues.jsonl", '{"id":"bd-1","title":"x","issue_type":"task"}\n{"id":"bd-2"}\n', "beads"),
        ("task.md", "---\nid: task-1\n---\n", "a Markdown file"),
        ("board.json", json.dumps({"format": "agentdeck-board", "version": 1}), "board export"),
        ("1.json", json.dumps({"id": "1", "subject": "x", "status": "pending"}), "Claude Code"),
        ("list.json", "[1, 2]", "JSON of another kind"),
        ("empty.json", "", "an empty file"),
        ("nan.json", '{"tasks": [NaN]}', "JSON of another kind"),
        ("deep.json", "[" * 100_000, "JSON of another kind"),
        ("bad.json", b"\xff\xfe{}", "a file of another kind"),
    ],
)
def test_a_file_of_another_kind_says_what_it_looks_like(
    tmp_path: Path, name: str, content: str | bytes, looks: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValidationError, match=r"not a Taskmaster tasks\.json") as refused:
        read_taskmaster(path)
    assert looks in refused.value.message and "\n" not in refused.value.message


def test_an_empty_tagged_file_has_no_tasks(tmp_path: Path) -> None:
    (tmp_path / "tasks.json").write_text("{}")
    assert read_taskmaster(tmp_path / "tasks.json") == ([], ReadNotes())

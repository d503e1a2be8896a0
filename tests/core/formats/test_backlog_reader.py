"""Reading Backlog.md folders: real task files from Backlog.md's own board, where every field
lands, and hand-made messy ones that must not stop the read (each noted instead)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentdeck.core import ValidationError
from agentdeck.core.formats import backlog
from agentdeck.core.formats.backlog import read_backlog
from agentdeck.core.formats.mirror import Incoming, ReadNotes, _check
from tests.core.formats.conftest import FIXTURES

REAL = FIXTURES / "backlog" / "real"
MESSY = FIXTURES / "backlog" / "messy"


def read(path: Path, **kwargs: dict[str, str]) -> tuple[dict[str, Incoming], ReadNotes]:
    items, notes = read_backlog(path, **kwargs)  # type: ignore[arg-type]
    checked = ReadNotes()  # what mirror.into_board refuses or drops: none of it may be left
    assert _check(items, "backlog", checked) == items and not checked.problems
    return {i.external_id: i for i in items}, notes


@pytest.fixture(scope="module")
def real() -> tuple[dict[str, Incoming], ReadNotes]:
    return read(REAL)


@pytest.fixture(scope="module")
def messy() -> tuple[dict[str, Incoming], ReadNotes]:
    return read(MESSY)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- real files ----------------------------------------------------------------------------


def test_every_field_of_a_real_task_lands(real: tuple[dict[str, Incoming], ReadNotes]) -> None:
    task = real[0]["backlog:BACK-355.02"]
    assert task.title == "CLI: Add --type flag to task create and edit commands"
    assert (task.status, task.source_status, task.priority) == ("done", "Done", 2)
    assert (task.assignee, task.labels, task.type) == ("codex-types-cli", ["cli"], "task")
    # `dependencies: [task-355.01]` names BACK-355.01 (in completed/) by its number
    assert task.blocked_by == ["backlog:BACK-355.01"]
    assert task.parent == "backlog:BACK-355"
    assert task.description.startswith("Extend CLI commands to support the type field")
    assert "<!--" not in task.description
    assert task.criteria.splitlines()[0] == (
        "- [x] task create command accepts --type flag with autocomplete for configured types"
    )
    assert [c["checked"] for c in task.metadata["acceptance_criteria"]] == [True] * 6
    assert task.notes.startswith("Implementation plan:\n1. Centralize configured task-type")
    assert "\n\nImplementation notes:\nImplemented one shared task-type" in task.notes
    assert task.result.startswith("Added canonical CLI task-type support")
    assert [(a, w) for a, _, w in task.comments][:1] == [
        ("codex-types-cli", at(2026, 7, 9, 22, 13))
    ]
    assert len(task.comments) == 4 and "---" not in task.comments[0][1]
    assert (task.created_at, task.updated_at) == (at(2026, 1, 1, 23, 37), at(2026, 7, 10, 19, 33))
    assert task.history == [("pending", task.created_at), ("done", task.updated_at)]
    assert task.closed_at == task.updated_at
    assert task.where.startswith("tasks/back-355.02 - ")


def test_unchecked_criteria_definition_of_done_and_metadata(
    real: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks, notes = real
    parent = tasks["backlog:BACK-222"]
    checks = parent.metadata["acceptance_criteria"]
    assert {c["checked"] for c in checks} == {False} and parent.criteria.startswith("- [ ] ")
    subtask = tasks["backlog:BACK-222.1"]
    assert subtask.parent == "backlog:BACK-222" and subtask.metadata["ordinal"] == 272000
    assert "\n\nDefinition of Done:\n- [" in subtask.criteria
    assert subtask.metadata["definition_of_done"][0]["checked"] in (True, False)
    kept = tasks["backlog:BACK-430"].metadata
    assert kept["milestone"] == "m-8"
    assert kept["references"] == ["https://github.com/MrLesk/Backlog.md/issues/579"]
    assert tasks["backlog:BACK-367"].metadata["documentation"][0].endswith("structured-sections.ts")
    assert notes.kept["ordinal"] == 4 and notes.kept["milestone"] == 3


def test_sections_follow_their_markers_not_their_headings(
    real: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks = real[0]
    # A `## Final Summary` with its own markers written inside the description stays there;
    # the real one, later, holds `## Summary` headings of its own.
    task = tasks["backlog:BACK-367"]
    assert "<!-- SECTION:FINAL_SUMMARY:BEGIN -->" in task.description
    assert task.result.startswith("## Summary\nAdded a first-class Final Summary section")
    assert "## Testing" in task.result
    # A plan whose body repeats `## Implementation Plan`, and notes with headings inside.
    notes = tasks["backlog:BACK-321"].notes
    assert notes.count("Implementation plan:") == 1 and "## Implementation Complete" in notes


def test_old_style_files_and_at_signs(real: tuple[dict[str, Incoming], ReadNotes]) -> None:
    tasks, notes = real
    first = tasks["backlog:BACK-1"]
    # `assignee: @MrLesk` is not YAML as written; Backlog.md quotes it before parsing, so do we
    assert first.assignee == "MrLesk" and first.metadata["reporter"] == "@MrLesk"
    assert first.created_at == at(2025, 6, 3) and first.labels == ["cli", "setup"]
    assert first.criteria.count("- [x] ") == 5
    assert first.external_refs == [("dependency", "task-0")]
    assert ("backlog:BACK-1", "task-0") in notes.external
    assert tasks["backlog:BACK-4.1"].external_refs == [
        ("dependency", "task-3"),
        ("parent", "task-4"),
    ]


def test_completed_and_archived_tasks_and_a_repeated_id(
    real: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks, notes = real
    assert tasks["backlog:BACK-76"].status == "done"
    assert tasks["backlog:BACK-76"].metadata["backlog_folder"] == "completed"
    archived = tasks["backlog:archive/tasks/BACK-76"]
    assert (archived.status, archived.source_status) == ("cancelled", "Won't Do")
    # its subtask in the same folder finds it, not completed/'s BACK-76
    assert tasks["backlog:BACK-76.2"].parent == "backlog:archive/tasks/BACK-76"
    assert tasks["backlog:BACK-60"].status == "cancelled"
    assert notes.mapped[("To Do (in archive/tasks/)", "cancelled")] == 3
    assert notes.mapped[("Won't Do", "cancelled")] == 2
    assert any("id BACK-76 is also" in p for p in notes.problems)
    assert notes.skipped == {"draft": 1, "milestone": 1, "decision": 1}
    assert len(tasks) == 19


@pytest.mark.parametrize("where", [".", "backlog", "backlog/tasks"])
def test_the_project_its_backlog_folder_or_its_tasks_folder(
    real: tuple[dict[str, Incoming], ReadNotes], where: str
) -> None:
    tasks, _ = read(REAL / where)
    assert tasks.keys() == real[0].keys()


def test_reading_is_deterministic(real: tuple[dict[str, Incoming], ReadNotes]) -> None:
    again, notes = read(REAL)
    assert list(again) == list(real[0]) and again == real[0] and notes == real[1]


# -- messy files ---------------------------------------------------------------------------


def test_unicode_crlf_labels_and_people(messy: tuple[dict[str, Incoming], ReadNotes]) -> None:
    task = messy[0]["backlog:task-1"]
    assert task.title == "Café ☕ — naïve 日本語 title"
    assert task.description == "Ünïcödé body with emoji 🎉 and a right-to-left word שלום."
    assert task.criteria == "- [ ] Works in Ωmega\n- [x] Renders 日本語"
    assert (task.priority, task.assignee) == (1, "alice")
    # "good first issue" cannot be a label as written; `UI` and `ui` are one label
    assert task.labels == ["good-first-issue", "ui"]
    assert task.metadata["labels_as_written"] == ["good first issue", "ui", "UI"]
    assert task.metadata["reporter"] == "@bob"


def test_files_that_are_not_clean_still_arrive_and_are_named(
    messy: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks, notes = messy
    bare = tasks["backlog:task-2"]
    assert (bare.title, bare.status) == ("No front matter", "pending")
    assert bare.description.startswith("# A task without front matter")
    assert bare.criteria == "- [ ] it is imported anyway"
    broken = tasks["backlog:task-3"]
    assert (broken.status, broken.priority) == ("in_progress", 2)
    assert "title: [unclosed" in broken.metadata["front_matter_as_written"]
    bomb = tasks["backlog:task-9"]
    assert (bomb.title, bomb.status) == ("YAML alias bomb", "done")
    windows = tasks["backlog:task-7"]
    assert windows.description == "Written on Windows."
    assert (windows.result, windows.status) == ("Shipped it.", "done")
    assert tasks["backlog:task-8"].title == "Nameless"
    problems = "\n".join(notes.problems)
    for expected in (
        "task-2 - No-front-matter.md: no front matter",
        "task-3 - Bad-yaml.md: front matter is not valid YAML (line 3",
        "task-9 - Aliases.md: front matter expands to too many values",
        "task-8 - Nameless.md: no title",
    ):
        assert expected in problems


def test_bytes_that_are_not_utf8_are_replaced_and_said(tmp_path: Path) -> None:
    # written here, not kept as a fixture: ruff refuses to read a file that is not UTF-8
    shutil.copytree(MESSY / "backlog", tmp_path / "backlog")
    task = tmp_path / "backlog" / "tasks" / "task-7 - Windows-and-bom.md"
    task.write_bytes(task.read_bytes() + b"\r\nbad byte: \xff\r\n")
    tasks, notes = read(tmp_path)
    assert tasks["backlog:task-7"].description == "Written on Windows.\n\nbad byte: \ufffd"
    said = (
        "tasks/task-7 - Windows-and-bom.md: not all UTF-8 (invalid start byte); odd bytes replaced"
    )
    assert said in notes.problems


def test_statuses_by_config_order_words_and_folder(
    messy: tuple[dict[str, Incoming], ReadNotes],
) -> None:
    tasks, notes = messy
    subtask = tasks["backlog:task-3.1"]
    # "Needs Design" is neither first nor last of config.yml's statuses: in progress
    assert (subtask.status, subtask.source_status) == ("in_progress", "Needs Design")
    assert tasks["backlog:task-4"].status == "pending"  # "Mystery": in no list, no word
    assert tasks["backlog:task-10"].status == "done"  # in completed/, though it says otherwise
    assert tasks["backlog:task-11"].status == "cancelled"  # archived, never done
    assert notes.mapped[("Mystery", "pending")] == 1
    assert notes.mapped[("Needs Design", "in_progress")] == 1
    assert notes.mapped[("In Progress (in completed/)", "done")] == 1
    assert notes.skipped == {"draft": 1}


def test_references_parents_and_cycles(messy: tuple[dict[str, Incoming], ReadNotes]) -> None:
    tasks, notes = messy
    subtask = tasks["backlog:task-3.1"]
    assert subtask.parent == "backlog:task-3"
    assert subtask.blocked_by == ["backlog:task-2"]
    assert subtask.external_refs == [("dependency", "task-99")]
    assert ("depends-on (own parent)", "backlog:task-3.1") in subtask.links  # itself
    assert (subtask.priority, subtask.type) == (0, "task")  # Critical; spike kept as written
    assert subtask.metadata["type"] == "spike" and subtask.metadata["estimate"] == 3
    assert subtask.notes.startswith("Implementation plan:\n1. Plan it\n## Phase 2")
    assert subtask.result == "Summed up."
    assert subtask.description.endswith("## Something Else\n\nExtra text Backlog.md does not know.")
    # task-5 waits on TASK-6 (named task-6), TASK-6 on task-05: the cycle's closing edge goes
    a, b = tasks["backlog:task-5"], tasks["backlog:TASK-6"]
    assert a.blocked_by == ["backlog:TASK-6"] and b.blocked_by == []
    assert b.links == [("depends-on (cycle)", "backlog:task-5")]
    assert tasks["backlog:task-4"].type == "epic"
    assert tasks["backlog:task-4"].metadata["priority"] == "someday"
    assert tasks["backlog:task-10"].metadata["assignee"] == ["@alice", "@bob"]
    assert notes.external == [("backlog:task-3.1", "task-99")]


def test_status_map_overrides_the_rule() -> None:
    tasks, notes = read(MESSY, status_map={"mystery": "review", "Needs Design": "escalated"})
    assert tasks["backlog:task-4"].status == "review"
    assert tasks["backlog:task-3.1"].status == "escalated"
    assert notes.mapped[("Mystery", "review")] == 1
    with pytest.raises(ValidationError, match="'later' is not one of pending"):
        read_backlog(MESSY, status_map={"Mystery": "later"})


# -- what is not a Backlog.md folder -------------------------------------------------------


def test_a_path_of_another_kind_says_what_it_looks_like(tmp_path: Path) -> None:
    task = next((REAL / "backlog" / "tasks").glob("back-222 *.md"))
    with pytest.raises(ValidationError, match="looks like a Markdown file"):
        read_backlog(task)
    (tmp_path / "claude").mkdir()
    (tmp_path / "claude" / "1.json").write_text("{}")
    with pytest.raises(ValidationError, match="looks like a Claude Code task list"):
        read_backlog(tmp_path / "claude")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match=r"not a Backlog\.md folder.*an empty folder"):
        read_backlog(tmp_path / "empty")
    with pytest.raises(ValidationError, match="nothing"):
        read_backlog(tmp_path / "missing")
    os.mkfifo(tmp_path / "fifo")  # named, never opened for a read that would wait
    with pytest.raises(ValidationError, match="looks like a FIFO, socket or device"):
        read_backlog(tmp_path / "fifo")


def test_a_bare_folder_of_task_files_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    shutil.copytree(MESSY / "backlog" / "tasks", folder)
    tasks, notes = read(folder)
    assert len(tasks) == 10 and notes.skipped == {}  # no completed/, archive/ or drafts/ here
    # no config.yml: "Needs Design" is no status Backlog.md knows by default
    assert tasks["backlog:task-3.1"].status == "pending"


def test_links_fifos_and_oversized_files_are_skipped_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "backlog"
    shutil.copytree(MESSY / "backlog", root)
    outside = tmp_path / "secret.md"
    outside.write_text("---\nid: task-50\ntitle: Outside\nstatus: Done\n---\n")
    (root / "tasks" / "task-50 - Link.md").symlink_to(outside)
    os.mkfifo(root / "tasks" / "task-51 - Fifo.md")
    (root / "tasks" / "task-52 - Big.md").write_text("---\nid: task-52\n---\n" + "x" * 5000)
    monkeypatch.setattr(backlog, "MAX_TASK_FILE", 4000)
    tasks, notes = read(tmp_path)
    assert not {"backlog:task-50", "backlog:task-51", "backlog:task-52"} & tasks.keys()
    assert notes.skipped["not a regular file"] == 2 and notes.skipped["unreadable file"] == 1
    problems = "\n".join(notes.problems)
    assert "task-50 - Link.md: a symbolic link, not read" in problems
    assert "task-51 - Fifo.md: a FIFO (named pipe), not read" in problems
    assert "task-52 - Big.md: larger than 4000 bytes" in problems


def test_a_broken_config_falls_back_to_the_defaults(tmp_path: Path) -> None:
    root = tmp_path / "backlog"
    shutil.copytree(MESSY / "backlog", root)
    (root / "config.yml").write_text("statuses: [To Do, \n")
    tasks, notes = read(tmp_path)
    assert tasks["backlog:task-3.1"].status == "pending"  # "Needs Design" is known no more
    assert any(p.startswith("config.yml is not valid YAML") for p in notes.problems)

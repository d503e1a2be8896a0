"""Fuzzed Backlog.md folders and Taskmaster files through their readers (the import fuzz
style, one level down: these formats' `import` verbs wire the readers to mirror.py). A reader
either refuses the path in one line (ValidationError) or returns tasks mirror.py accepts as
they are: unique ids, references only to tasks read, no waiting or parent cycles, titles,
statuses, priorities, labels, types and names in agentdeck's stored forms, metadata that is
JSON. Messy input must never raise anything else.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core import DeckError, limits
from agentdeck.core.formats.backlog import read_backlog
from agentdeck.core.formats.mirror import Incoming, ReadNotes, _check
from agentdeck.core.formats.taskmaster import read_taskmaster
from agentdeck.core.models import STATUSES, TASK_TYPES
from tests.core.formats.conftest import FIXTURES
from tests.fuzz.conftest import examples
from tests.fuzz.junk import ANY_SURROGATE, json_values, texts

one = st.sampled_from
TEXT = texts(forbid="", surrogates=ANY_SURROGATE, long_sizes=(301, 5_000))
TM_SEED = json.loads((FIXTURES / "taskmaster" / "tasks-messy.json").read_text())


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-formats-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def assert_sane(items: list[Incoming], notes: ReadNotes) -> None:
    """What mirror.into_board needs of a reader's output, and agentdeck's stored forms."""
    checked = ReadNotes()  # unique ids, no waiting cycle: nothing into_board drops or refuses
    assert _check(items, "fuzzed", checked) == items and not checked.problems
    by_id = {i.external_id: i for i in items}
    for item in items:
        assert limits.title(item.title) == item.title
        assert item.status in STATUSES and 0 <= item.priority <= 4, item
        assert item.type in TASK_TYPES and limits.labels(item.labels) == item.labels
        assert item.assignee is None or limits.name(item.assignee) == item.assignee
        assert item.external_id not in item.blocked_by
        assert len(set(item.blocked_by)) == len(item.blocked_by)
        seen, up = {item.external_id}, item.parent
        while up is not None:  # parents lead to a top-level task, never around
            assert up not in seen, f"parent cycle through {up}"
            seen.add(up)
            up = by_id[up].parent
        json.dumps(item.metadata, allow_nan=False)
        if item.history:
            assert item.history[-1][0] == item.status
            assert all(status in STATUSES for status, _ in item.history)
        for text in (item.description, item.criteria, item.notes, item.result):
            assert isinstance(text, str)
        for kind, ref in [*item.external_refs, *item.links]:
            assert isinstance(kind, str) and isinstance(ref, str)
    assert all(isinstance(line, str) and "\n" not in line for line in notes.problems)


# -- Backlog.md ----------------------------------------------------------------------------

IDS = ("task-1", "task-2", "task-2.1", "TASK-3", "task-03", "task-9", "BACK-1", "", "1", "x y")
STATUS_WORDS = ("To Do", "In Progress", "Done", "Won't Do", "", "done", "🙂", "null", "[a]")
PIECES = (
    "## Description",
    "## Acceptance Criteria",
    "## Definition of Done",
    "## Implementation Plan",
    "## Implementation Notes",
    "## Comments",
    "## Final Summary",
    "## Other",
    "<!-- SECTION:DESCRIPTION:BEGIN -->",
    "<!-- SECTION:DESCRIPTION:END -->",
    "<!-- SECTION:PLAN:BEGIN -->",
    "<!-- SECTION:FINAL_SUMMARY:END -->",
    "<!-- AC:BEGIN -->",
    "<!-- AC:END -->",
    "<!-- COMMENTS:BEGIN -->",
    "<!-- COMMENTS:END -->",
    "- [x] #1 done",
    "- [ ] open",
    "- [X] shouted",
    "author: @x",
    "created: 2025-01-01 10:00",
    "---",
    "```",
    "",
)


def yaml_value(draw: st.DrawFn, good: st.SearchStrategy[Any]) -> str:
    roll = draw(st.integers(0, 9))
    if roll == 0:
        return draw(TEXT).replace("\n", " ")
    if roll == 1:
        return json.dumps(draw(json_values(TEXT)))  # JSON is YAML: any shape at all
    if roll == 2:
        return draw(one(("[", "{", "&a [*a]", "*nope", "!!python/object:os.system", "'", "@x")))
    return json.dumps(draw(good), ensure_ascii=False)


@st.composite
def task_files(draw: st.DrawFn) -> bytes:
    fields = {
        "id": one(IDS),
        "title": TEXT,
        "status": one(STATUS_WORDS),
        "assignee": st.lists(one(("@alice", "bob", "@", "", "a b", "@" * 70)), max_size=2),
        "labels": st.lists(TEXT, max_size=3),
        "dependencies": st.lists(one(IDS), max_size=3),
        "parent_task_id": one(IDS),
        "priority": one(("high", "medium", "low", "critical", "", "7")),
        "type": one(("bug", "spike", "epic", "", "Feature")),
        "created_date": one(("2025-06-03", "2025-06-03 10:30", "yesterday", "2025-13-45", "")),
        "updated_date": one(("2025-06-04 11:00", "", "0")),
    }
    lines = [
        f"{name}: {yaml_value(draw, good)}" for name, good in fields.items() if draw(st.booleans())
    ]
    body = [draw(st.one_of(one(PIECES), TEXT)) for _ in range(draw(st.integers(0, 12)))]
    front = draw(one(("full", "full", "none", "unclosed", "empty")))
    head = {
        "full": ["---", *lines, "---"],
        "none": [],
        "unclosed": ["---", *lines],
        "empty": ["---", "---"],
    }[front]
    text = "\n".join([*head, "", *body])
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")
    return (b"\xef\xbb\xbf" if draw(st.integers(0, 9)) == 0 else b"") + data


@st.composite
def backlog_folders(draw: st.DrawFn) -> dict[str, bytes]:
    names = (
        "tasks/task-1 - A.md",
        "tasks/task-2 - B.md",
        "tasks/task-2.1 - C.md",
        "tasks/TASK-3 - D.md",
        "tasks/task-9.md",
        "tasks/readme.md",
        "tasks/draft-1 - E.md",
        "completed/task-1 - Again.md",
        "archive/tasks/task-4 - F.md",
        "drafts/draft-2 - G.md",
        "tasks/x.txt",
    )
    files = {
        name: draw(task_files()) for name in draw(st.lists(one(names), max_size=6, unique=True))
    }
    if draw(st.booleans()):
        statuses = draw(st.lists(one(STATUS_WORDS), max_size=4))
        files["config.yml"] = draw(
            one((f"statuses: {json.dumps(statuses)}\n".encode(), b"statuses: [\n", b"- 1\n", b""))
        )
    return files


@examples(60)
@given(files=backlog_folders())
def test_fuzzed_backlog_folders(scratch: Path, files: dict[str, bytes]) -> None:
    root = scratch / "backlog"
    shutil.rmtree(root, ignore_errors=True)
    (root / "tasks").mkdir(parents=True)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    items, notes = read_backlog(root)
    assert_sane(items, notes)
    tasks = [n for n in files if n.endswith(".md") and "draft" not in n and "readme" not in n]
    assert len(items) == len(tasks)  # every task file arrives, however broken


# -- Taskmaster ----------------------------------------------------------------------------


def places(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict | list):
        for key, inner in value.items() if isinstance(value, dict) else enumerate(value):
            yield from places(inner, (*here, key))


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def taskmaster_docs(draw: st.DrawFn) -> Any:
    """The messy fixture with up to four mutations; now and then no Taskmaster file at all."""
    doc = copy.deepcopy(TM_SEED)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(one(("drop", "retype", "duplicate", "dangle", "status")))
        spots = [p for p in places(doc) if p]
        if not spots:
            break
        path = draw(one(spots))
        parent = at(doc, path[:-1])
        if op == "drop":
            del parent[path[-1]]
        elif op == "retype":
            parent[path[-1]] = draw(json_values(TEXT))
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif op == "dangle" and (path[-1] == "id" or isinstance(parent, list)):
            parent[path[-1]] = draw(one((1, 2, "4.1", "4.9", 0, -1, 1.5, "1.2.3", "", 10**30)))
        elif op == "status" and isinstance(parent, dict) and "status" in parent:
            parent["status"] = draw(st.one_of(one(("hooked", "Done", "WIP", "")), TEXT))
    if draw(st.integers(0, 19)) == 0:
        doc = draw(json_values(TEXT))
    return doc


@examples(80)
@given(doc=taskmaster_docs(), tag=st.one_of(st.none(), one(("master", "feature-x", "nope"))))
def test_fuzzed_taskmaster_files(scratch: Path, doc: Any, tag: str | None) -> None:
    path = scratch / "tasks.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), errors="surrogatepass")
    try:
        items, notes = read_taskmaster(path, tag=tag, status_map={"WIP": "in_progress"})
    except DeckError as exc:
        assert "\n" not in exc.message and str(path) in exc.message
        return
    assert_sane(items, notes)

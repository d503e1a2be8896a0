"""Fuzzed import files through `agentdeck import`: a native export mutated (fields dropped,
retyped or duplicated, bad versions, references that dangle, dependency cycles, huge text), a
Claude Code tasks folder (lists whose ids collide, todos files, internal tasks) and a beads
JSONL file (memory records, every dependency type, custom statuses) with malformed, mistyped
and dangling entries. A native import succeeds whole or fails with one line (exit 1, or 2 for
a dependency cycle), and a failed import leaves nothing behind: no board, no task, no event; a
beads or Claude import reads past records it cannot read, and importing the same files again
creates and updates nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import NAMES, Sandbox, examples, one_line_error, run_in_process
from tests.fuzz.junk import ANY_SURROGATE, json_values, nested, texts

one = st.sampled_from
TEXT = texts(forbid="", surrogates=ANY_SURROGATE, long_sizes=(301, 70_000))
DANGLING = ("WEB-99", "NOPE-1", "web-1", "WEB-0", "WEB-1234567890", "", "WEB")
NAME_FIELDS = {"assignee", "to", "agent", "actor", "sender", "name", "lead", "supervisor"}
TASK_KEY = re.compile(r"^WEB-\d+$")
TIMES = ("2025-03-03T09:00:00+00:00", "2025-03-03", "0001-01-01T00:00:00+05:00", "yesterday", "")


def paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document, as the keys and indexes that lead to it."""
    yield here
    if isinstance(value, dict | list):
        for key, inner in value.items() if isinstance(value, dict) else enumerate(value):
            yield from paths(inner, (*here, key))


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


class Seed:
    """The document mutations start from; short in hypothesis's reports."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def __repr__(self) -> str:
        return "<the sandbox board's export>"


@st.composite
def mutated_exports(draw: st.DrawFn, seed: Seed) -> Any:
    """The sandbox board's export with up to three mutations (none at all now and then)."""
    doc = copy.deepcopy(seed.doc)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(
            one(("drop", "retype", "duplicate", "dangle", "rename", "cycle", "header", "deepen"))
        )
        places = [p for p in paths(doc) if p]
        if op == "header":
            doc["version" if draw(st.booleans()) else "format"] = draw(
                one((0, 2, -1, "1", 1.5, True, None, 10**30, "agentdeck-board", "beads"))
            )
        elif op == "cycle" and isinstance(doc.get("dependencies"), list):
            a, b = draw(one(("WEB-1", "WEB-3"))), draw(one(("WEB-1", "WEB-2", "WEB-3")))
            doc["dependencies"] += [{"task": a, "blocked_by": b}, {"task": b, "blocked_by": a}]
        elif op == "deepen" and isinstance(doc.get("events"), list) and doc["events"]:
            event = draw(one(doc["events"]))
            if isinstance(event, dict):
                event["data"] = nested(draw(one((50, 150, 900))))
        elif op == "drop" and places:
            path = draw(one(places))
            del at(doc, path[:-1])[path[-1]]
        elif op == "retype" and places:
            path = draw(one(places))
            at(doc, path[:-1])[path[-1]] = draw(json_values(TEXT))
        elif op == "duplicate":
            lists = [p for p in paths(doc) if isinstance(at(doc, p), list) and at(doc, p)]
            if lists:
                items = at(doc, draw(one(lists)))
                items.append(copy.deepcopy(draw(one(items))))
        elif op in ("dangle", "rename"):
            wanted = [
                p
                for p in places
                if isinstance(at(doc, p), str)
                and (
                    TASK_KEY.match(at(doc, p))
                    if op == "dangle"
                    else p[-1] in NAME_FIELDS or p[-2:-1] == ("skills",)
                )
            ]
            if wanted:
                path = draw(one(wanted))
                pool = DANGLING if op == "dangle" else NAMES
                at(doc, path[:-1])[path[-1]] = draw(st.one_of(one(pool), TEXT))
    if draw(st.integers(0, 29)) == 0:
        doc = draw(json_values(TEXT))  # not an export at all
    return doc


def check_import(args: list[str], sandbox: Sandbox, where: tuple[str, ...] = ()) -> int:
    """Run `agentdeck ARGS`; a failure must be one line, exit 1 (or 2 for a dependency cycle,
    as for any refused move), name one of `where` (the file, or the source), and leave no
    trace."""
    code, stdout, stderr = run_in_process(args)
    assert "Traceback" not in stdout + stderr, stderr
    if code != 0:
        assert code in (1, 2), (code, stderr)
        message = one_line_error(stderr)
        assert not where or any(w in message for w in where), message
        sandbox.assert_unchanged(f"a failed import {args!r} left something behind")
    return code


@examples(80)
@given(data=st.data())
def test_mutated_board_exports(sandbox: Sandbox, data: st.DataObject) -> None:
    sandbox.reset()
    doc = data.draw(mutated_exports(Seed(sandbox.export)), label="document")
    key = data.draw(one(("NEW", "NEW", "NEW", "new", "WEB", "bad key", "ABCDEFGHIJK")), label="key")
    file = sandbox.work / "fuzzed.json"
    file.write_text(json.dumps(doc, ensure_ascii=data.draw(st.booleans())), errors="surrogatepass")
    code = check_import(["import", str(file), "--key", key, "--as", "ann"], sandbox)
    if code == 0:
        assert key.upper() in run_in_process(["board", "list"])[1]


CLAUDE_STATUS = ("pending", "in_progress", "completed", "deleted", "done", "")
BEADS_STATUS = ("open", "in_progress", "blocked", "deferred", "closed", "tombstone", "wip",
                "hooked", "pinned", "in_review", "needs-sign-off")  # fmt: skip
BEADS_DEPENDENCIES = ("blocks", "parent-child", "related", "discovered-from", "waits-for",
                      "conditional-blocks", "tracks", "duplicates", "replies-to", "x")  # fmt: skip
BEADS_TYPES = ("task", "bug", "feature", "epic", "chore", "decision", "agent", "message", "x")


@st.composite
def records(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A record with each field usually present and right, sometimes missing or junk, and
    now and then an unknown field."""
    out = {}
    for name, good in fields.items():
        roll = draw(st.integers(0, 19))
        if roll == 0:
            continue
        out[name] = draw(json_values(TEXT)) if roll == 1 else draw(good)
    if draw(st.integers(0, 9)) == 0:
        out[draw(TEXT)] = draw(json_values(TEXT))
    return out


def ids(prefix: str) -> st.SearchStrategy[str]:
    """Ids of the generated tasks (0-4), and some that name no task."""
    return one(tuple(f"{prefix}{n}" for n in range(7)))


def raw_lines() -> st.SearchStrategy[bytes]:
    """A line or file that is not a JSON record: broken JSON, wrong encoding, wrong shape."""
    broken = (b"{", b"", b"   ", b"[]", b"null", b'"task"', b"\xff\xfe{}", b'{"id": 1,}', b"NaN")
    return one((*broken, b"[" * 100_000))  # the last is nested past Python's recursion limit


def encoded(record: dict[str, Any], ascii_only: bool) -> bytes:
    return json.dumps(record, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def claude_files(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """Files of a Claude Code tasks folder: (path under it, contents). Task files at the top
    (one list) or in list folders whose ids collide, integer ids, internal tasks, metadata,
    todos arrays, and broken files."""
    task_ids = st.one_of(ids(""), st.integers(0, 6))
    fields = {
        "id": task_ids,
        "subject": TEXT,
        "status": one(CLAUDE_STATUS),
        "description": TEXT,
        "activeForm": TEXT,
        "owner": st.one_of(one(NAMES), TEXT),
        "blockedBy": st.lists(task_ids, max_size=3),
        "blocks": st.lists(task_ids, max_size=2),
        "metadata": st.one_of(
            st.just({}),
            st.just({"_internal": True}),
            st.dictionaries(TEXT, json_values(TEXT), max_size=2),
        ),
    }
    todo = records({"content": TEXT, "status": one(CLAUDE_STATUS), "activeForm": TEXT})
    files = []
    for n in range(draw(st.integers(0, 6))):
        folder = draw(one(("", "", "list-a/", "list-b/")))
        roll = draw(st.integers(0, 9))
        if roll == 0:
            body = draw(raw_lines())
        elif roll == 1:
            body = encoded(draw(st.lists(todo, max_size=3)), draw(st.booleans()))  # type: ignore[arg-type]
        else:
            body = encoded(draw(records(fields)), draw(st.booleans()))
        name = draw(one((f"{n}.json", f"{n}.json", "0.json", "notes.txt", ".highwatermark")))
        files.append((folder + name, body))
    return files


@examples(50)
@given(files=claude_files())
def test_fuzzed_claude_task_directories(sandbox: Sandbox, files: list[tuple[str, bytes]]) -> None:
    sandbox.reset()
    folder = sandbox.work / "fuzzed-claude"
    folder.mkdir()
    for name, body in files:
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(body)
    args = ["import", "claude", str(folder), "--board", "WEB", "--as", "ann"]
    if check_import(args, sandbox, where=(".json", "claude")) == 0:
        assert_idempotent(args)


def assert_idempotent(args: list[str]) -> None:
    """Importing the same files again creates and updates nothing."""
    code, stdout, stderr = run_in_process([*args, "--json"])
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert (doc["created"], doc["updated"]) == (0, 0), doc


@st.composite
def beads_lines(draw: st.DrawFn) -> bytes:
    """A beads JSONL export: issues with dependencies and comments, and broken lines."""
    dependency = records(
        {"depends_on_id": st.one_of(ids("bd-"), one(("bd-wisp-1", "external:x:y"))),
         "type": one(BEADS_DEPENDENCIES)}
    )  # fmt: skip
    comment = records(
        {"author": st.one_of(one(NAMES), TEXT), "text": TEXT, "created_at": one(TIMES)}
    )
    fields = {
        "id": ids("bd-"),
        "title": TEXT,
        "status": one(BEADS_STATUS),
        "priority": st.one_of(st.integers(-1, 5), one((2.0, 10**30, True))),
        "description": TEXT,
        "acceptance_criteria": TEXT,
        "assignee": st.one_of(one(NAMES), TEXT),
        "created_at": one(TIMES),
        "dependencies": st.lists(dependency, max_size=2),
        "comments": st.lists(comment, max_size=2),
        "issue_type": one(BEADS_TYPES),
        "labels": st.lists(st.one_of(one(("ui", "needs review", "q1")), TEXT), max_size=3),
        "notes": TEXT,
        "design": TEXT,
        "estimated_minutes": st.one_of(st.integers(-5, 10**6), one((1.5, 10**30))),
        "closed_at": one(TIMES),
        "close_reason": TEXT,
        "started_at": one(TIMES),
    }
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        roll = draw(st.integers(0, 9))
        if roll == 0:
            lines.append(draw(raw_lines()))
        elif roll == 1:
            lines.append(encoded({"_type": "memory", "key": draw(TEXT), "value": draw(TEXT)}, True))
        else:
            lines.append(encoded(draw(records(fields)), draw(st.booleans())))
    return b"\n".join(lines) + draw(one((b"\n", b"", b"\n\n")))


@examples(50)
@given(body=beads_lines())
def test_fuzzed_beads_exports(sandbox: Sandbox, body: bytes) -> None:
    sandbox.reset()
    file = sandbox.work / "fuzzed.jsonl"
    file.write_bytes(body)
    args = ["import", "beads", str(file), "--board", "WEB", "--as", "ann"]
    if check_import(args, sandbox, where=("fuzzed.jsonl", "beads")) == 0:
        assert_idempotent(args)


def test_the_unmutated_export_imports_under_a_new_key(sandbox: Sandbox) -> None:
    """The fuzzer's starting point is a valid document, so its failures are the mutations'."""
    sandbox.reset()
    file = Path(sandbox.work / "export.json")
    assert check_import(["import", str(file), "--key", "COPY", "--as", "ann"], sandbox) == 0

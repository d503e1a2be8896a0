"""Hostile text from agents: 10 MB blobs, invalid UTF-8, NUL, control characters and bidi
overrides, through every verb that carries text, the importers, the MCP tools, the CLI and the
markdown report. Each is stored faithfully, truncated with a marker that says how much was
dropped, or refused with a one-line message; nothing crashes and nothing reaches a terminal raw.

Invalid UTF-8 is refused where bytes are decoded (argv, stdin, files: one line naming where) and
repaired where text is stored (a lone surrogate or NUL in a Python string or a JSON escape becomes
U+FFFD): refusing at a door costs the sender one retry, while refusing at the store would throw an
agent's whole log entry away over one bad byte. Core tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck, ValidationError
from agentdeck.core.limits import MAX_TEXT, MAX_TITLE
from agentdeck.core.mcp.tools import call
from tests.cli.conftest import AGENTDECK
from tests.conftest import make_web_board
from tests.core.helpers import Refused, task_in

BIG = 10 * 1024 * 1024
MARKER = "[truncated by agentdeck: {} more characters]"
# Everything an agent can smuggle into a string: markup, ANSI and OSC escapes, C0, DEL, C1 (CSI),
# bidi overrides, NUL, and the lone surrogates Python makes of bytes that are not UTF-8.
HOSTILE = (
    "[bold red]x[/] \x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 "
    "\x01\x7f \x85\x9b2J \u202eevil\u202c nul\x00 bad\udcff\udc80 end"
)
STORED = HOSTILE.replace("\x00", "\ufffd").replace("\udcff", "\ufffd").replace("\udc80", "\ufffd")
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\n"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]

Field = Callable[[Deck, str], str]


def _event_text(deck: Deck, key: str, kind: str) -> str:
    return [e for e in deck.task_events(key) if e.kind == kind or e.subkind == kind][-1].text


def _held(deck: Deck) -> str:
    return task_in(deck, "in_progress")


def _inbox_text(deck: Deck, key: str) -> str:
    text = deck.inbox("gen")[-1].text
    assert text.startswith(f"{key}: ")
    return text.removeprefix(f"{key}: ")


def _after(status: str, verb: Callable[[Deck, str, str], Any], read: Field) -> Field:
    def run(deck: Deck, value: str) -> str:
        key = task_in(deck, status)
        verb(deck, key, value)
        return read(deck, key)

    return run


# Every verb that stores free text, with the limit it keeps (the default 64 Ki, or shorter).
TEXT_FIELDS: dict[str, tuple[int, Field]] = {
    "description": (
        MAX_TEXT,
        lambda d, v: d.get_task(d.add_task("T", actor="ann", description=v).key).description,
    ),
    "criteria": (
        MAX_TEXT,
        lambda d, v: d.get_task(d.add_task("T", actor="ann", criteria=v).key).criteria,
    ),
    "plan description": (
        MAX_TEXT,
        lambda d, v: (
            d.get_task(d.plan([{"title": "P", "description": v}], actor="sup")[0].key).description
        ),
    ),
    "board goal": (
        MAX_TEXT,
        lambda d, v: d.get_board(d.create_board("BIG", "B", actor="ann", goal=v).key).goal,
    ),
    "log": (
        MAX_TEXT,
        lambda d, v: (d.log(key := _held(d), v, actor="gen"), _event_text(d, key, "action"))[1],
    ),
    "submit result": (
        MAX_TEXT,
        _after(
            "in_progress",
            lambda d, k, v: d.submit(k, actor="gen", result=v),
            lambda d, k: d.get_task(k).result,
        ),
    ),
    "complete verified_by": (
        MAX_TEXT,
        _after(
            "in_progress",
            lambda d, k, v: d.complete(k, actor="gen", verified_by=v),
            lambda d, k: d.get_task(k).verification,
        ),
    ),
    "fail reason": (
        MAX_TEXT,
        _after(
            "in_progress",
            lambda d, k, v: d.fail(k, actor="gen", reason=v),
            lambda d, k: d.get_task(k).result,
        ),
    ),
    "escalate reason": (
        MAX_TEXT,
        _after(
            "in_progress",
            lambda d, k, v: d.escalate(k, actor="gen", reason=v),
            lambda d, k: d.get_task(k).escalation_reason,
        ),
    ),
    "release note": (
        MAX_TEXT,
        _after(
            "in_progress",
            lambda d, k, v: d.release(k, actor="gen", note=v),
            lambda d, k: _event_text(d, k, "pending"),
        ),
    ),
    "answer": (
        MAX_TEXT,
        _after("escalated", lambda d, k, v: d.answer(k, actor="ann", text=v), _inbox_text),
    ),
    "reject notes": (
        MAX_TEXT,
        _after("review", lambda d, k, v: d.reject(k, actor="ann", notes=v), _inbox_text),
    ),
    "reopen notes": (
        MAX_TEXT,
        _after("done", lambda d, k, v: d.reopen(k, actor="ann", notes=v), _inbox_text),
    ),
    "approve note": (
        MAX_TEXT,
        _after(
            "review",
            lambda d, k, v: d.approve(k, actor="ann", note=v),
            lambda d, k: _event_text(d, k, "approved"),
        ),
    ),
    "cancel reason": (
        MAX_TEXT,
        _after(
            "pending",
            lambda d, k, v: d.cancel(k, actor="ann", reason=v),
            lambda d, k: _event_text(d, k, "cancelled"),
        ),
    ),
    "checkpoint message": (
        2000,
        _after(
            "in_progress",
            lambda d, k, v: d.checkpoint(k, actor="gen", sha="abc1234", message=v),
            lambda d, k: d.checkpoints(k)[0].message,
        ),
    ),
    "checkpoint file": (
        500,
        _after(
            "in_progress",
            lambda d, k, v: d.checkpoint(k, actor="gen", sha="abc1234", files=[v]),
            lambda d, k: d.checkpoints(k)[0].files[0],
        ),
    ),
}
# Short one-line labels: whitespace folded, cut with an ellipsis.
LINE_FIELDS: dict[str, tuple[int, Field]] = {
    "doing": (
        200,
        lambda d, v: (d.doing("gen", v, key=(k := _held(d))), d.get_task(k).active_form)[1],
    ),
    "usage model": (
        100,
        lambda d, v: (
            d.record_usage(k := _held(d), actor="gen", tokens_in=1, model=v),
            _model(d, k),
        )[1],
    ),
    "agent role": (
        200,
        lambda d, v: (d.add_agent("r2", actor="ann", role=v), d)[1].get_agent("r2").role,
    ),
}


def _model(deck: Deck, key: str) -> str:
    return [e for e in deck.task_events(key) if e.kind == "usage"][-1].subkind


@pytest.mark.parametrize("field", list(TEXT_FIELDS))
def test_ten_megabytes_of_text_are_truncated_with_a_marker(web: Deck, field: str) -> None:
    limit, store = TEXT_FIELDS[field]
    value = HOSTILE + "x" * BIG
    stored = store(web, value)
    assert stored.startswith(STORED)
    assert stored.endswith(MARKER.format(len(value) - limit)), stored[-80:]
    assert len(stored) < limit + 80


@pytest.mark.parametrize("field", list(TEXT_FIELDS))
def test_hostile_text_is_stored_as_written_but_for_what_no_database_can_hold(
    web: Deck, field: str
) -> None:
    """Markup, escapes, controls and bidi overrides are kept verbatim (they are neutralised
    where they are shown); NUL and invalid UTF-8 become U+FFFD."""
    assert TEXT_FIELDS[field][1](web, HOSTILE) == STORED


@pytest.mark.parametrize("field", list(LINE_FIELDS))
def test_short_labels_are_one_line_cut_with_an_ellipsis(web: Deck, field: str) -> None:
    limit, store = LINE_FIELDS[field]
    stored = store(web, HOSTILE + "\n" + "y" * BIG)
    assert stored.startswith(" ".join(STORED.split())) and stored.endswith("y…")
    assert len(stored) == limit and "\n" not in stored


def test_ten_megabyte_names_titles_and_log_data_are_refused(web: Deck, refused: Refused) -> None:
    key = _held(web)
    with refused(ValidationError, f"at most {MAX_TITLE} characters", f"got {BIG}"):
        web.add_task("t" * BIG, actor="ann")
    with refused(ValidationError, "plan task 1", f"at most {MAX_TITLE} characters"):
        web.plan([{"title": "t" * BIG}], actor="sup")
    with refused(ValidationError, "log data is over 64 KiB"):
        web.log(key, "tool output", actor="gen", kind="tool_call", data={"out": "x" * BIG})
    with refused(ValidationError, "agent name"):
        web.add_agent("n" * BIG, actor="ann")
    with refused(ValidationError, "agent name"):
        web.add_agent("bad\udcffname", actor="ann")


def test_log_data_keeps_its_shape_with_unstorable_strings_replaced(web: Deck) -> None:
    key = _held(web)
    data = {"out": HOSTILE, "nested": [{"k\x00": "v\udcff"}], "n": 3}
    entry = web.log(key, "ran it", actor="gen", kind="tool_call", data=data)
    expected = {"out": STORED, "nested": [{"k\ufffd": "v\ufffd"}], "n": 3}
    assert entry.data == expected
    assert [e.data for e in web.task_events(key) if e.kind == "log"] == [expected]


def test_mcp_refuses_ten_megabytes_and_repairs_unstorable_text(web: Deck) -> None:
    key = _held(web)
    cursor = web.max_event_id()
    big = call(web, "gen", "log", {"key": key, "text": "x" * BIG})
    assert big.error and big.text.startswith("log: arguments are too large")
    assert web.max_event_id() == cursor
    ok = call(web, "gen", "log", {"key": key, "text": HOSTILE, "data": {"raw": "\udcff\x00"}})
    assert not ok.error, ok.text
    [entry] = [e for e in web.task_events(key) if e.kind == "log"]
    assert (entry.text, entry.data) == (STORED, {"raw": "\ufffd\ufffd"})


# -- import files -------------------------------------------------------------------------------


def _import_claude(deck: Deck, folder: Path, description: str) -> str:
    task = {
        "id": "1",
        "subject": "Subject " + HOSTILE,
        "description": description,
        "activeForm": HOSTILE,
        "status": "in_progress",
        "owner": "gen",
    }
    (folder / "1.json").write_text(json.dumps(task))
    [imported] = deck.import_claude(folder, actor="ann", board="WEB").tasks
    assert deck.get_task(imported.key).active_form == " ".join(STORED.split())
    return imported.key


def _import_beads(deck: Deck, folder: Path, description: str) -> str:
    issue = {
        "id": "bd-1" + HOSTILE,
        "title": "Title " + HOSTILE,
        "description": description,
        "status": "open",
        "comments": [{"author": "gen", "text": HOSTILE}],
    }
    (folder / "issues.jsonl").write_text(json.dumps(issue) + "\n")
    [imported] = deck.import_beads(folder / "issues.jsonl", actor="ann", board="WEB").tasks
    assert _event_text(deck, imported.key, "comment") == STORED
    return imported.key


@pytest.mark.parametrize("importer", [_import_claude, _import_beads])
def test_imports_repair_escaped_nul_and_surrogates_and_truncate_with_a_marker(
    web: Deck, tmp_path: Path, importer: Callable[[Deck, Path, str], str]
) -> None:
    """A valid UTF-8 file can still carry NUL and lone surrogates as JSON \\u escapes."""
    description = HOSTILE + "x" * (2 * MAX_TEXT)
    task = web.get_task(importer(web, tmp_path, description))
    assert task.title.endswith(" ".join(STORED.split()))
    assert task.description.startswith(STORED)
    assert task.description.endswith(MARKER.format(len(description) - MAX_TEXT))


def test_ten_megabyte_import_files_are_refused_or_truncated(
    web: Deck, tmp_path: Path, refused: Refused
) -> None:
    """A Claude Code task file is at most 8 MiB; a beads export holds 10 MB descriptions, cut."""
    with refused(ValidationError, "1.json: larger than 8 MiB"):
        _import_claude(web, tmp_path, "x" * BIG)
    task = web.get_task(_import_beads(web, tmp_path, "x" * BIG))
    assert task.description.endswith(MARKER.format(BIG - MAX_TEXT))


def test_an_export_with_unstorable_text_imports_repaired(web: Deck) -> None:
    key = _held(web)
    web.log(key, "fine", actor="gen", data={"k": "v"})
    doc = web.export_board("WEB")
    doc["board"]["goal"] = HOSTILE
    doc["agents"][0]["role"] = HOSTILE
    doc["tasks"][0]["escalation_reason"] = HOSTILE
    doc["events"][-1]["data"] = {"k\x00": HOSTILE}
    copy = web.import_board(json.loads(json.dumps(doc)), actor="ann", key="COPY")
    assert copy.goal == STORED
    assert STORED in [a.role for a in web.list_agents("COPY")]
    assert web.get_task("COPY-1").escalation_reason == STORED
    assert {"k\ufffd": STORED} in [e.data for e in web.events_since(0, board="COPY")]


# -- the markdown report ------------------------------------------------------------------------


def test_the_report_shows_no_control_or_bidi_character(web: Deck) -> None:
    nasty = "".join(CONTROLS + BIDI) + HOSTILE
    web.add_task("Title " + nasty, actor="ann")
    key = _held(web)
    web.doing("gen", nasty, key=key)
    web.escalate(task_in(web, "in_progress"), actor="gen", reason=nasty)
    web.fail(task_in(web, "in_progress"), actor="gen", reason=nasty)
    report = web.report("WEB")
    for line in report.splitlines():
        for char in CONTROLS + BIDI:
            assert char not in line, f"{char!r} in {line!r}"
    assert "\\[bold red\\]x\\[/\\]" in report  # markup is escaped, shown as typed
    assert report.count("Title ") == 1 and "evil" in report


# -- the CLI as a real process ------------------------------------------------------------------


def _run(
    db: str | bytes, *args: str | bytes, stdin: bytes = b"", **env: str | bytes
) -> subprocess.CompletedProcess[bytes]:
    env = {
        "AGENTDECK_DB": db,
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "AGENTDECK_NO_SERVER": "1",  # in-process: no resident server outliving the test
        **env,
    }
    return subprocess.run(
        [str(AGENTDECK), *args], input=stdin, capture_output=True, env=env, timeout=120
    )


@pytest.fixture
def live(db_url: str) -> Iterator[Deck]:
    """The WEB board on the system clock (the CLI process runs on it), `gen` holding WEB-1;
    agents act by name (the CLI processes hold no tokens) on both backends."""
    with Deck.open(db_url, create=True) as deck:
        make_web_board(deck, lease_seconds=3600, agents="named")
        task_in(deck, "in_progress")
        yield deck


def _one_line_error(ran: subprocess.CompletedProcess[bytes], code: int, *fragments: str) -> None:
    err = ran.stderr.decode("utf-8")
    assert ran.returncode == code, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_cli_refuses_arguments_that_are_not_utf8_in_one_line(
    live: Deck, db_url: str, tmp_path: Path
) -> None:
    cursor = live.max_event_id()
    _one_line_error(_run(db_url, "log", "WEB-1", b"bad \xff\xfe bytes", "--as", "gen"), 1, "UTF-8")
    _one_line_error(_run(db_url, "log", "WEB-1", "ok", "--as", b"g\xffen"), 1, "UTF-8")
    plan = json.dumps([{"title": "x"}]).encode() + b"\xff"
    _one_line_error(_run(db_url, "plan", "-", "--as", "sup", stdin=plan), 1, "UTF-8")
    (tmp_path / "plan.json").write_bytes(plan)
    _one_line_error(_run(db_url, "plan", str(tmp_path / "plan.json"), "--as", "sup"), 1, "UTF-8")
    for name in ("AGENTDECK_AS", "AGENTDECK_BOARD"):
        ran = _run(db_url, "claim", **{"AGENTDECK_AS": "gen", name: b"g\xffen"})
        _one_line_error(ran, 1, f"{name} is not UTF-8 text")
    ran = _run(db_url.encode() + b"\xff", "task", "list")
    _one_line_error(ran, 1, "AGENTDECK_DB is not UTF-8 text")
    # An agent that asked for JSON still gets exactly one JSON document saying so.
    ran = _run(db_url, "claim", "--json", AGENTDECK_AS=b"g\xffen")
    _one_line_error(ran, 1, "AGENTDECK_AS is not UTF-8 text")
    assert json.loads(ran.stdout) == {
        "error": {"message": "AGENTDECK_AS is not UTF-8 text", "exit_code": 1}
    }
    assert live.max_event_id() == cursor


def test_cli_truncates_what_argv_can_carry_and_ten_megabyte_plans(
    live: Deck, db_url: str, tmp_path: Path
) -> None:
    """Linux caps one argv string at 128 KiB: 100 KiB goes through argv, 10 MB through a plan."""
    text = "z" * (100 * 1024)
    ran = _run(db_url, "log", "WEB-1", text, "--as", "gen", "--json", "--full")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["text"].endswith(MARKER.format(len(text) - MAX_TEXT))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"title": "Big", "description": HOSTILE + "d" * BIG}]))
    ran = _run(db_url, "plan", str(plan), "--as", "sup", "--json", "--full")
    assert ran.returncode == 0, ran.stderr
    [task] = json.loads(ran.stdout)
    assert (
        task["description"].startswith(STORED)
        and MARKER.format(len(HOSTILE) + BIG - MAX_TEXT) in task["description"]
    )


def test_cli_output_of_hostile_text_is_literal_and_json_exact(live: Deck, db_url: str) -> None:
    live.log("WEB-1", "".join(CONTROLS + BIDI) + HOSTILE, actor="gen")
    shown = _run(db_url, "task", "show", "WEB-1")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout.decode("utf-8")
    for char in [c for c in CONTROLS + BIDI if c != "\t"]:
        assert char not in out, f"{char!r} reached the terminal"
    assert "[bold red]x[/]" in out
    as_json = _run(db_url, "task", "show", "WEB-1", "--json", "--full")
    assert as_json.returncode == 0, as_json.stderr
    texts = [e["text"] for e in json.loads(as_json.stdout)["log"]]
    assert "".join(CONTROLS + BIDI).replace("\x00", "\ufffd") + STORED in texts

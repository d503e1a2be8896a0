"""Reports, the event stream, export and import through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from agentdeck.core import Deck
from tests.backends import database_url
from tests.cli.conftest import sqlite_only


def test_report_to_stdout_and_to_a_file(cli, web: str, tmp_path: Path) -> None:
    ran = cli("report")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("# Website") and "Build the API" in ran.stdout
    out = tmp_path / "progress.md"
    ran = cli("report", "--out", str(out), "--json")
    assert json.loads(ran.stdout) == {"board": "WEB", "path": str(out)}
    assert out.read_text().startswith("# Website")
    whole = json.loads(cli("report", "--json", "--full").stdout)
    assert whole["markdown"].startswith("# Website") and "## Blocked" in whole["markdown"]


def test_burndown(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    deck.complete("WEB-1", actor="coder", verified_by="tests")
    chart = json.loads(cli("burndown", "--json").stdout)
    assert {"points", "ideal", "forecast", "throughput_per_day"} <= set(chart)
    assert chart["points"][-1]["open"] == 1
    text = cli("burndown").stdout
    assert "open" in text and "throughput" in text


def test_export_then_import_into_a_new_database(
    cli, backend: str, web: str, tmp_path: Path
) -> None:
    exported = json.loads(cli("export").stdout)
    assert exported["board"]["key"] == "WEB"
    out = tmp_path / "web.json"
    assert cli("export", "--out", str(out)).stdout == f"wrote board WEB to {out}\n"
    (tmp_path / "fresh").mkdir()
    fresh = database_url(backend, tmp_path / "fresh")
    ran = cli("import", str(out), "--key", "COPY", "--db", fresh, "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["key"] == "COPY"
    with Deck.open(fresh) as deck:
        assert [t.title for t in deck.list_tasks("COPY")] == ["Build the API", "Wire the UI"]


def test_import_of_a_newer_format_is_refused(cli, web: str, tmp_path: Path, unchanged) -> None:
    doc = json.loads(cli("export").stdout)
    doc["version"] = 999
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(doc))
    check = unchanged()
    ran = cli("import", str(newer), "--key", "NEW", "--as", "ann")
    assert ran.exit_code == 1
    assert "newer than this agentdeck reads" in ran.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"format":\n  oops')
    ran = cli("import", str(broken), "--as", "ann")
    assert (ran.exit_code, f"{broken} line 2: not valid JSON" in ran.stderr) == (1, True)
    check()


def write_claude_task(folder: Path, task_id: str, subject: str, status: str, **extra) -> None:
    doc = {"id": task_id, "subject": subject, "description": "", "activeForm": "",
           "status": status, "blocks": [], "blockedBy": [], **extra}  # fmt: skip
    (folder / f"{task_id}.json").write_text(json.dumps(doc))


def test_import_claude_mirrors_a_task_directory(cli, web: str, tmp_path: Path) -> None:
    folder = tmp_path / "claude"
    folder.mkdir()
    write_claude_task(folder, "1", "Plan the work", "completed")
    write_claude_task(folder, "2", "Do the work", "in_progress", owner="worker", blockedBy=["1"])
    ran = cli("import", "claude", str(folder), "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert (doc["board"], doc["source"]) == ("WEB", "claude")
    assert [(t["title"], t["status"]) for t in doc["tasks"]] == [
        ("Plan the work", "done"),
        ("Do the work", "in_progress"),
    ]
    write_claude_task(folder, "2", "Write the work up", "in_progress", owner="worker")
    ran = cli("import", "claude", str(folder), "--as", "ann")
    assert ran.stdout.splitlines()[0] == (
        "mirrored 2 claude tasks into board WEB: 0 created, 1 updated, 1 unchanged"
    )


def test_an_agents_reimport_reports_each_change_it_may_not_make(
    cli, web: str, tmp_path: Path, deck: Deck
) -> None:
    """coder re-imports a directory saying worker's task is done and a pending one cancelled:
    neither happens, and each gets one line (and a `skipped` entry with --json)."""
    folder = tmp_path / "claude"
    folder.mkdir()
    write_claude_task(folder, "1", "Plan the work", "pending")
    write_claude_task(folder, "2", "Do the work", "in_progress", owner="worker")
    assert cli("import", "claude", str(folder), "--as", "ann").exit_code == 0
    keys = {t.title: t.key for t in deck.list_tasks("WEB")}
    plan, work = keys["Plan the work"], keys["Do the work"]
    write_claude_task(folder, "1", "Plan the work", "deleted")
    write_claude_task(folder, "2", "Do the work", "completed", owner="worker")
    ran = cli("import", "claude", str(folder), "--as", "coder")
    assert ran.exit_code == 0, ran.stderr
    lines = [line for line in ran.stdout.splitlines() if not line.startswith("  ")]
    assert lines[0] == "mirrored 2 claude tasks into board WEB: 0 created, 0 updated, 2 unchanged"
    assert lines[1].startswith(
        f"left {plan} pending (the file wants cancelled): coder may not move it from pending "
        "to cancelled; cancelled is reached by cancel (a human)"
    )
    assert lines[2].startswith(
        f"left {work} in progress (the file wants done): coder may not move it from in progress"
    )
    assert len(lines) == 3
    doc = json.loads(cli("import", "claude", str(folder), "--as", "coder", "--json").stdout)
    assert [(s["key"], s["wanted"], s["status"]) for s in doc["skipped"]] == [
        (plan, "cancelled", "pending"),
        (work, "done", "in_progress"),
    ]
    assert all(s["reason"] for s in doc["skipped"])
    assert {deck.get_task(plan).status, deck.get_task(work).status} == {"pending", "in_progress"}


def test_import_beads_and_a_broken_line(cli, web: str, tmp_path: Path, unchanged) -> None:
    """A line that cannot be read is skipped and said once on stderr, the rest imports; a
    file with nothing readable is refused in one line and changes nothing."""
    export = tmp_path / "issues.jsonl"
    export.write_text(
        json.dumps({"id": "bd-1", "title": "Fix login", "status": "open", "priority": 1}) + "\n"
    )
    ran = cli("import", "beads", str(export), "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert [t["title"] for t in json.loads(ran.stdout)["tasks"]] == ["Fix login"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(export.read_text() + "{not json\n")
    ran = cli("import", "beads", str(broken), "--as", "ann", "--json")
    doc = json.loads(ran.stdout)
    assert (ran.exit_code, doc["unchanged"], doc["problems"]) == (
        0,
        1,
        [
            "broken.jsonl:2: not JSON (Expecting property name enclosed in double quotes); line skipped"
        ],
    )
    assert ran.stderr.splitlines() == [f"agentdeck: note: {doc['problems'][0]}"]
    only_broken = tmp_path / "only_broken.jsonl"
    only_broken.write_text("{not json\n")
    check = unchanged()
    ran = cli("import", "beads", str(only_broken), "--as", "ann")
    assert (ran.exit_code, "only_broken.jsonl:1: not JSON" in ran.stderr) == (1, True)
    check()


@sqlite_only  # parsing fails before the database is opened
def test_import_arguments_are_checked(cli, web: str, tmp_path: Path) -> None:
    ran = cli("import", "beads", str(tmp_path / "x.jsonl"), "--watch", "--as", "ann")
    assert (ran.exit_code, "--watch works with" in ran.stderr) == (1, True)
    ran = cli("import", "a.json", "b.json", "--as", "ann")
    assert (ran.exit_code, "unexpected 'b.json'" in ran.stderr) == (1, True)


def test_events_after_a_cursor(cli, web: str, deck: Deck) -> None:
    cursor = deck.max_event_id()
    deck.claim("coder")
    deck.log("WEB-1", "first step", actor="coder")
    events = json.loads(cli("events", "--since", str(cursor), "--json").stdout)["events"]
    assert [e["kind"] for e in events] == ["claimed", "log"]
    assert events[0]["id"] > cursor
    text = cli("events", "--limit", "1").stdout
    assert text.count("\n") == 1 and "first step" in text

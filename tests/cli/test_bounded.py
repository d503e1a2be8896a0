"""Bounded by default: every list verb pages (a default page, a cursor that round-trips, a
forged cursor refused) and `--all` streams every item as JSON lines, read a page at a time;
`report` summarises finished work and lists it whole only on request. The stream's page is
shrunk to 4 so a board of a few dozen tasks crosses many page boundaries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from agentdeck.core import Deck, report, views
from agentdeck.core.errors import ValidationError
from agentdeck.tui.cli import pages
from tests.cli.conftest import Ran

DONE = 9  # finished tasks, by coder and designer in turn
PAGE = 4  # the stream's page in these tests


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "STREAM_PAGE", PAGE)
    monkeypatch.setattr(pages, "STREAM_PAGE", PAGE)
    monkeypatch.setattr(report, "REPORT_ITEMS", 3)


@pytest.fixture
def board(deck: Deck, monkeypatch: pytest.MonkeyPatch) -> Deck:
    """WEB with 27 more tasks: 9 done (labelled), one cancelled, the rest ready; budgets on
    every agent; eleven messages waiting for coder."""
    for n in range(27):
        deck.add_task(
            f"Task {n}",
            actor="planner",
            priority=n % 5,
            labels=["api" if n % 2 else "ui"],
            skills=["python"] if n % 3 else [],
        )
    for n in range(DONE):
        key = f"WEB-{n + 3}"
        who = ("coder", "designer")[n % 2]
        deck.claim(who, key=key)
        deck.complete(key, actor=who, result="shipped", verified_by="tests")
    deck.cancel("WEB-29", actor="ann")
    for name in ("coder", "designer", "planner"):
        for metric in ("tokens", "cost_usd"):
            deck.set_budget(metric, actor="ann", scope="agent", subject=name, soft=10**6)
    for n in range(11):
        deck.send("coder", f"note {n}", actor="ann")
    for key in ("OPS", "API"):  # for `board list` to page
        deck.create_board(key, key.title(), actor="ann")
    monkeypatch.setenv("AGENTDECK_BOARD", "WEB")
    return deck


def ok(ran: Ran) -> Any:
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)


def lines(ran: Ran) -> list[dict[str, Any]]:
    """`--all`'s output: one JSON object per line, nothing else."""
    assert ran.exit_code == 0, ran.stderr
    return [json.loads(line) for line in ran.stdout.splitlines()]


# Each list verb: its arguments, the envelope's item list, what names an item, and the whole
# list as the deck holds it.
VERBS: dict[str, tuple[tuple[str, ...], str, str, Callable[[Deck], list[Any]]]] = {
    "task list": (
        ("task", "list"),
        "tasks",
        "key",
        lambda d: [t.key for t in d.list_tasks("WEB", limit=None)],
    ),
    "ready": (("ready",), "tasks", "key", lambda d: [t.key for t in d.ready("WEB", limit=999)]),
    "events": (
        ("events", "--cursor", "0"),
        "events",
        "id",
        lambda d: [e.id for e in d.events_since(0, board="WEB", limit=9999)],
    ),
    "inbox": (
        ("inbox", "--peek", "--as", "coder"),
        "messages",
        "id",
        lambda d: [m.id for m in d.inbox("coder", board="WEB", mark_read=False, limit=None)],
    ),
    "board list": (("board", "list"), "boards", "key", lambda d: ["API", "OPS", "WEB"]),
    "agent list": (
        ("agent", "list"),
        "agents",
        "name",
        lambda d: [a.name for a in d.list_agents("WEB", limit=None)],
    ),
    "budget show": (
        ("budget", "show"),
        "budgets",
        "subject",
        lambda d: [b.subject for b in d.budget_status("WEB", limit=None)],
    ),
}


def walk(cli: Callable[..., Ran], args: tuple[str, ...], items: str, limit: int) -> list[Any]:
    """Every page, following next_cursor from the first."""
    seen: list[Any] = []
    cursor: list[str] = []
    for _ in range(100):
        doc = ok(cli(*args, "--json", "--limit", str(limit), *cursor))
        assert len(doc[items]) <= limit
        seen += doc[items]
        if doc["next_cursor"] is None:
            return seen
        assert doc[items], "a page with a next page is never empty"
        cursor = ["--cursor", doc["next_cursor"]]
    raise AssertionError("paging never ended")


@pytest.mark.parametrize("name", VERBS)
def test_pages_walk_the_whole_list_and_all_streams_it(cli, board: Deck, name: str) -> None:
    args, items, ident, truth = VERBS[name]
    whole = truth(board)
    assert len(whole) >= 3, whole
    first = ok(cli(*args, "--json"))
    assert set(first) >= {items, "next_cursor"}
    assert len(first[items]) == min(len(whole), pages.DEFAULT_LIMIT)
    walked = [i[ident] for i in walk(cli, args, items, 2)]
    assert sorted(map(str, walked)) == sorted(map(str, whole))
    assert len(set(map(str, walked))) == len(walked) or name == "budget show"
    streamed = lines(cli(*args, "--all"))
    assert len(streamed) == len(whole)
    assert sorted(str(i[ident]) for i in streamed) == sorted(map(str, whole))
    # The same views a page holds, one per line, with or without --json.
    assert lines(cli(*args, "--all", "--json")) == streamed
    by_ident = {str(i[ident]): i for i in walk(cli, args, items, 50)}
    if name != "budget show":  # two budgets per subject
        assert all(by_ident[str(i[ident])] == i for i in streamed)


@pytest.mark.parametrize("name", VERBS)
def test_all_with_a_cursor_and_a_forged_cursor_are_refused(cli, board: Deck, name: str) -> None:
    args, _, _, _ = VERBS[name]
    if name not in ("events", "inbox"):  # their cursor is where the stream starts
        both = cli(*args, "--all", "--cursor", "2")
        assert both.exit_code == 1 and both.stderr.count("\n") == 1, both.stderr
        assert both.stdout == ""
    for forged in ("x", "-1", "1.5", "9" * 30):
        ran = cli(*args[:2], "--cursor", forged, "--json") if name != "events" else None
        ran = ran or cli("events", "--cursor", forged, "--json")
        assert ran.exit_code == 1 and "Traceback" not in ran.stderr
        assert json.loads(ran.stdout)["error"]["exit_code"] == 1


def test_task_list_all_streams_in_key_order_and_keeps_its_filters(cli, board: Deck) -> None:
    keys = [t["key"] for t in lines(cli("task", "list", "--all"))]
    assert keys == sorted(keys, key=lambda k: int(k.split("-")[1]))
    assert "WEB-29" not in keys  # cancelled
    assert "WEB-29" in [t["key"] for t in lines(cli("task", "list", "--all", "--cancelled"))]
    done = lines(cli("task", "list", "--all", "--status", "done", "--label", "ui"))
    expected = {t.key for t in board.list_tasks("WEB", status="done", label="ui", limit=None)}
    assert {t["key"] for t in done} == expected and len(done) == len(expected) > 0
    full = lines(cli("task", "list", "--all", "--full", "--column", "ready"))
    assert full and all("description" in t and t["status"] == "pending" for t in full)
    mine = lines(cli("ready", "--all", "--as", "designer"))
    assert {t["key"] for t in mine} == {t.key for t in board.ready("WEB", agent="designer")}


def test_inbox_all_reads_every_message_once(cli, board: Deck) -> None:
    first = ok(cli("inbox", "--peek", "--as", "coder", "--json", "--limit", "2"))
    rest = lines(cli("inbox", "--all", "--peek", "--as", "coder", "--cursor", first["next_cursor"]))
    assert [m["text"] for m in rest] == [f"note {n}" for n in range(2, 11)]
    read = lines(cli("inbox", "--all", "--as", "coder"))
    assert [m["text"] for m in read] == [f"note {n}" for n in range(11)]
    assert ok(cli("inbox", "--as", "coder", "--json")) == {"messages": [], "next_cursor": None}


def test_events_all_is_every_event_after_since(cli, board: Deck) -> None:
    on_web = [e.id for e in board.events_since(0, board="WEB", limit=9999)]
    after = lines(cli("events", "--all", "--since", str(on_web[-7])))
    assert [e["id"] for e in after] == on_web[-6:]
    ran = cli("events", "--all", "--follow")
    assert ran.exit_code == 1 and "not both" in ran.stderr


def test_the_python_api_pages_and_streams(board: Deck) -> None:
    page = board.task_page("WEB", limit=5)
    seen = list(page)
    while page.next_cursor is not None:
        page = board.task_page("WEB", limit=5, cursor=page.next_cursor)
        seen += page
    assert [t.key for t in seen] == [t.key for t in board.list_tasks("WEB", limit=None)]
    assert len(board.list_tasks("WEB", limit=3)) == 3
    with pytest.raises(ValidationError, match="not a page cursor"):
        board.task_page("WEB", cursor="nope")
    streamed = [t.key for t in board.iter_tasks("WEB", include_cancelled=True)]
    assert len(streamed) == len(set(streamed)) == 29
    assert [e.id for e in board.iter_events(3)] == [e.id for e in board.events_since(3, limit=999)]
    on_web = [e.id for e in board.iter_events(board="WEB")]
    assert on_web == [e.id for e in board.events_since(0, board="WEB", limit=999)]
    assert len(list(board.iter_agents("WEB"))) == len(board.list_agents("WEB"))
    assert len(list(board.iter_budgets("WEB"))) == 6
    assert [b.key for b in board.iter_boards()] == ["API", "OPS", "WEB"]
    with pytest.raises(Exception, match="NOPE"):
        board.iter_tasks("NOPE")  # refused when called, not when first read


def test_report_summarises_finished_work_and_lists_it_on_request(cli, board: Deck) -> None:
    summary = board.finished_summary("WEB")
    assert (summary["done"], summary["cancelled"], summary["failed"]) == (DONE, 1, 0)
    assert summary["by_agent"] == {"coder": 5, "designer": 4}
    labelled = summary["by_label"]
    assert sum(labelled.values()) == DONE and set(labelled) == {"api", "ui"}
    newest = [t["key"] for t in summary["recent"]]
    assert newest[0] == f"WEB-{DONE + 2}" and len(newest) == DONE
    markdown = ok(cli("report", "--json", "--section", "done"))["markdown"]
    done_lines = [line for line in markdown.splitlines() if line.startswith("- **")]
    assert len(done_lines) == 3  # REPORT_ITEMS, most recent first
    assert done_lines[0].startswith(f"- **WEB-{DONE + 2}**")
    assert f"_and {DONE - 3} more: `agentdeck report --finished all`_" in markdown
    assert "By agent: coder 5, designer 4" in markdown
    ready_part = ok(cli("report", "--json", "--section", "ready"))["markdown"]
    assert "## Remaining (ready) (18)" in ready_part and "_and 15 more:" in ready_part
    whole = cli("report", "--section", "done", "--finished", "all")
    assert whole.exit_code == 0, whole.stderr
    listed = [line.split("**")[1] for line in whole.stdout.splitlines() if line.startswith("- **")]
    assert listed == [f"WEB-{n + 3}" for n in range(DONE)]  # every one, in key order
    bad = cli("report", "--finished", "some")
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1
    agents = ok(cli("report", "--json"))["finished"]
    assert agents["by_agent"] == summary["by_agent"] and "done" not in agents  # in "columns"


def test_report_out_streams_the_whole_list_to_a_file(cli, board: Deck, tmp_path) -> None:
    out = tmp_path / "all.md"
    ran = cli("report", "--finished", "all", "--out", str(out))
    assert ran.exit_code == 0, ran.stderr
    text = out.read_text()
    assert "## Done (9, in key order)" in text and text.count("- **WEB-") >= DONE


def test_throughput_counts_the_days_finished_work(board: Deck) -> None:
    figures = board.throughput("WEB", days=3)
    assert figures["days"] == 3 and len(figures["by_day"]) == 3
    assert figures["done"] == DONE == sum(d["done"] for d in figures["by_day"])
    assert figures["per_day"] == round(DONE / 3, 3)

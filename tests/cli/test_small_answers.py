"""`--json` answers small by default: list-shaped commands print one page of compact views with
a cursor, `--full` gives the whole models, `task show` pages its log, `report --json` is the
summary. Each test runs the real app on both backends, on a board whose tasks carry long
descriptions and results, the way an imported board does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from agentdeck.core import Deck
from tests.cli.conftest import Ran

LONG = "lorem ipsum " * 400  # 4,800 characters, in every description and result
FINISHED = [f"WEB-{n}" for n in range(3, 10)]  # done, with "pagination" in them
ASSIGNED = [f"WEB-{n}" for n in range(10, 15)]  # pending, assigned to coder (a message each)
CARD_CHARS = 400  # a compact card is ~150-250 characters of JSON; never near 400


@pytest.fixture
def board(deck: Deck) -> Deck:
    """WEB plus twelve tasks with long descriptions: seven finished with long results, five
    assigned to coder (so coder has five unread messages)."""
    for n in range(3, 15):
        deck.add_task(
            f"Paginate part {n}",
            actor="planner",
            description=f"pagination {LONG}",
            criteria=LONG,
            skills=["python"],
        )
    for key in FINISHED:
        deck.claim("coder", key=key)
        deck.log(key, f"step {LONG}", actor="coder", data={"blob": LONG})
        deck.complete(key, actor="coder", result=f"pagination done {LONG}", verified_by="tests")
    for key in ASSIGNED:
        deck.assign(key, "coder", actor="ann")
    return deck


def ok(ran: Ran) -> Any:
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)


# Each list-shaped command: its arguments, the envelope's item list, and what names an item.
LISTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "ready": (("ready",), "tasks", "key"),
    "task list": (("task", "list"), "tasks", "key"),
    "search": (("search", "pagination"), "hits", "key"),
    "similar": (("similar", "WEB-14"), "hits", "key"),
    "events": (("events",), "events", "id"),
    "inbox": (("inbox", "--peek", "--as", "coder"), "messages", "id"),
}
# Where a walk starts: the event stream from its first event, the rest from their top.
START = {"events": ("--cursor", "0")}


@pytest.mark.parametrize("name", LISTS)
def test_list_answers_are_compact_and_full_gives_the_whole(cli, board: Deck, name: str) -> None:
    args, items, ident = LISTS[name]
    args = (*args, *START.get(name, ()))
    compact = ok(cli(*args, "--json", "--limit", "5"))
    assert set(compact) == {items, "next_cursor"}
    page = compact[items]
    assert 1 <= len(page) <= 5
    for item in page:
        assert not {"description", "criteria", "data", "version"} & set(item), item
        assert all(len(v) <= 600 for v in item.values() if isinstance(v, str)), item
    assert len(cli(*args, "--json", "--limit", "5").stdout) < 5 * CARD_CHARS
    whole = ok(cli(*args, "--json", "--limit", "5", "--full"))
    assert [i[ident] for i in whole[items]] == [i[ident] for i in page]
    if items == "tasks":
        assert any(t["description"] == f"pagination {LONG}" for t in whole[items])
        assert all(t["description"] == board.get_task(t["key"]).description for t in whole[items])
    if items == "hits":
        assert all(h["result"] == f"pagination done {LONG}" for h in whole[items])
    if items == "events":
        assert set(whole[items][0]) >= {"data", "created_at", "board"}


def walk(
    cli: Callable[..., Ran],
    args: tuple[str, ...],
    items: str,
    limit: int,
    start: tuple[str, ...] = (),
) -> list[Any]:
    """Every page from the first (`start`: its --cursor, if any), following next_cursor;
    each page holds at most `limit`."""
    seen: list[Any] = []
    cursor = list(start)
    for _ in range(100):
        doc = ok(cli(*args, "--json", "--limit", str(limit), *cursor))
        assert len(doc[items]) <= limit
        seen += doc[items]
        if doc["next_cursor"] is None:
            return seen
        assert doc[items], "a page with a next page is never empty"
        cursor = ["--cursor", doc["next_cursor"]]
    raise AssertionError("paging never ended")


@pytest.mark.parametrize("name", LISTS)
def test_paging_walks_every_item_exactly_once(cli, board: Deck, name: str) -> None:
    args, items, ident = LISTS[name]
    start = START.get(name, ())
    everything = [i[ident] for i in ok(cli(*args, *start, "--json", "--limit", "500"))[items]]
    assert len(everything) >= 5, everything  # enough for several pages of 2
    walked = [i[ident] for i in walk(cli, args, items, 2, start)]
    assert walked == everything and len(set(walked)) == len(walked)


def test_the_walks_cover_what_the_deck_holds(cli, board: Deck) -> None:
    """The pages are the real lists, not just consistent with each other."""
    listed = [t["key"] for t in walk(cli, ("task", "list"), "tasks", 4)]
    assert listed == [t.key for t in board.list_tasks("WEB")]
    ready = [t["key"] for t in walk(cli, ("ready", "--as", "coder"), "tasks", 3)]
    assert ready == [t.key for t in board.ready("WEB", agent="coder")]
    hits = {h["key"] for h in walk(cli, ("search", "pagination"), "hits", 3)}
    assert hits == set(FINISHED)
    events = [e["id"] for e in walk(cli, ("events",), "events", 7, ("--cursor", "0"))]
    assert events == [e.id for e in board.events_since(0, limit=10_000)]


def test_reading_the_inbox_a_page_at_a_time_loses_nothing(cli, board: Deck) -> None:
    """Reading marks only the page shown read, so the next page still holds the rest."""
    waiting = [m["text"] for m in walk(cli, ("inbox", "--peek", "--as", "coder"), "messages", 2)]
    assert waiting == [f"{key} is assigned to you" for key in ASSIGNED]
    first = ok(cli("inbox", "--as", "coder", "--json", "--limit", "2"))
    assert [m["text"] for m in first["messages"]] == waiting[:2]
    assert first["next_cursor"] is not None
    left = ok(cli("inbox", "--peek", "--as", "coder", "--json", "--limit", "500"))["messages"]
    assert [m["text"] for m in left] == waiting[2:]
    rest = walk(cli, ("inbox", "--as", "coder"), "messages", 2, ("--cursor", first["next_cursor"]))
    assert [m["text"] for m in rest] == waiting[2:]
    assert ok(cli("inbox", "--as", "coder", "--json")) == {"messages": [], "next_cursor": None}


def test_text_output_pages_too_and_says_how_to_go_on(cli, board: Deck) -> None:
    ran = cli("task", "list", "--limit", "3")
    assert ran.exit_code == 0, ran.stderr
    assert "WEB-1" in ran.stdout and "WEB-4" not in ran.stdout
    assert ran.stdout.rstrip().endswith("more: --cursor 3")
    last = cli("task", "list", "--cursor", "12")
    assert "WEB-14" in last.stdout and "more:" not in last.stdout
    events = cli("events", "--since", "0", "--limit", "2")
    assert events.stdout.count("\n") == 3 and events.stdout.endswith("more: --cursor 2\n")


FORGED = ["x", "-1", "1.5", "0x10", "\u0663", " 2", "9" * 30, "1000001"]


# Events and the inbox page by row id, where a large number is a real place, not a forgery.
FORGED_CASES = [
    (name, cursor)
    for name in LISTS
    for cursor in FORGED
    if not (name in ("events", "inbox") and cursor == "1000001")
]


@pytest.mark.parametrize(("name", "cursor"), FORGED_CASES)
def test_a_forged_cursor_is_one_line_and_exit_1(
    cli, board: Deck, name: str, cursor: str, unchanged
) -> None:
    args, _, _ = LISTS[name]
    if name == "inbox":
        args = ("inbox", "--as", "coder")  # reading: a refused read must mark nothing read
    check = unchanged()
    ran = cli(*args, "--cursor", cursor)
    assert ran.exit_code == 1 and "Traceback" not in ran.stderr
    assert (
        ran.stderr.startswith("agentdeck: error: not a page cursor") and ran.stderr.count("\n") == 1
    )
    as_json = cli(*args, "--cursor", cursor, "--json")
    assert json.loads(as_json.stdout)["error"]["exit_code"] == 1
    check()
    assert len(board.inbox("coder", mark_read=False)) == len(ASSIGNED)


def test_limit_outside_one_to_five_hundred_is_a_usage_error(cli, board: Deck) -> None:
    for bad in ("0", "501", "-3"):
        ran = cli("ready", "--limit", bad, "--json")
        assert ran.exit_code == 1 and ran.stderr.count("\n") == 1, ran.stderr


def test_events_cursor_and_since_are_one_or_the_other(cli, board: Deck) -> None:
    ran = cli("events", "--since", "1", "--cursor", "2")
    assert (ran.exit_code, ran.stderr) == (
        1,
        "agentdeck: error: give --since or --cursor, not both\n",
    )
    newest = ok(cli("events", "--json", "--limit", "3"))
    assert [e["id"] for e in newest["events"]] == [board.max_event_id() - n for n in (2, 1, 0)]
    assert newest["next_cursor"] is None


def test_task_show_pages_its_log_newest_first_back_to_the_start(cli, board: Deck) -> None:
    key = "WEB-10"
    board.claim("coder", key=key)
    for n in range(25):
        board.log(key, f"entry {n} {LONG}", actor="coder", data={"n": n})
    everything = [e.id for e in board.task_events(key)]
    first = ok(cli("task", "show", key, "--json", "--log-limit", "10"))
    assert first["task"]["description"] == f"pagination {LONG}"  # the task is whole
    assert [e["id"] for e in first["log"]] == everything[-10:]
    assert all("data" not in e and len(e["text"]) <= 100 for e in first["log"])
    assert len(json.dumps(first["log"])) < 10 * CARD_CHARS
    pages = [[e["id"] for e in first["log"]]]
    cursor = first["log_cursor"]
    while cursor is not None:
        doc = ok(cli("task", "show", key, "--json", "--log-limit", "10", "--log-cursor", cursor))
        pages.insert(0, [e["id"] for e in doc["log"]])
        cursor = doc["log_cursor"]
    walked = [i for page in pages for i in page]
    assert walked == everything and len(pages) == -(-len(everything) // 10)
    whole = ok(cli("task", "show", key, "--json", "--full", "--log-limit", "3"))
    assert [e["data"] for e in whole["log"]] == [{"n": 22}, {"n": 23}, {"n": 24}]
    assert whole["log"][-1]["text"] == f"entry 24 {LONG}"
    refused = cli("task", "show", key, "--log-cursor", "x")
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1


def test_task_show_text_says_where_older_entries_are(cli, board: Deck) -> None:
    ran = cli("task", "show", "WEB-3", "--log-limit", "1")
    assert ran.exit_code == 0, ran.stderr
    newest = board.task_events("WEB-3")[-1].id
    assert ran.stdout.rstrip().endswith(f"older: --log-cursor {newest}")


def test_report_json_is_the_summary(cli, board: Deck) -> None:
    summary = ok(cli("report", "--json"))
    expected = board.report_summary("WEB")
    clocked = ("updated_at", "forecast")  # read from the clock at each call
    assert {k: v for k, v in summary.items() if k not in clocked} == {
        k: v for k, v in expected.items() if k not in clocked
    }
    assert set(summary["forecast"]) == {"throughput_per_day", "done_at", "early", "late", "note"}
    assert (summary["total"], summary["done"]) == (14, 7)
    assert len(cli("report", "--json").stdout) < 4000
    whole = ok(cli("report", "--json", "--full"))
    assert set(whole) == {"board", "markdown"} and "## Blocked" in whole["markdown"]


def test_report_sections_pick_parts_of_the_markdown(cli, board: Deck) -> None:
    ran = cli("report", "--section", "blocked", "--section", "forecast")
    assert ran.exit_code == 0, ran.stderr
    assert "## Blocked (1)" in ran.stdout and "WEB-2" in ran.stdout
    assert "## Forecast" in ran.stdout and "## Done" not in ran.stdout
    doc = ok(cli("report", "--section", "done", "--json"))
    assert "## Done (7)" in doc["markdown"] and "## Blocked" not in doc["markdown"]
    wrong = cli("report", "--section", "gossip")
    assert wrong.exit_code == 1 and "unknown report section 'gossip'" in wrong.stderr


def test_write_answers_are_receipts_and_full_is_whole(cli, board: Deck) -> None:
    claimed = ok(cli("claim", "WEB-10", "--as", "coder", "--json"))
    assert claimed["task"]["key"] == "WEB-10" and "version" not in claimed["task"]
    assert [m["text"] for m in claimed["inbox"]] == [f"{k} is assigned to you" for k in ASSIGNED]
    whole = ok(cli("claim", "WEB-11", "--as", "coder", "--json", "--full"))
    assert whole["task"]["version"] >= 1 and whole["inbox"] == []
    logged = ok(cli("log", "WEB-10", LONG, "--as", "coder", "--json"))
    assert set(logged) == {"id", "task", "kind"}
    done = ok(
        cli("done", "WEB-10", "--result", LONG, "--verified-by", "t", "--as", "coder", "--json")
    )
    assert done == {
        "key": "WEB-10",
        "status": "done",
        "column": "done",
        "assignee": "coder",
        "nudge": None,
    }
    released = ok(cli("release", "WEB-11", "--as", "coder", "--json", "--full"))
    assert released["description"] == f"pagination {LONG}"


def test_doing_names_the_task_it_shows_on(cli, board: Deck) -> None:
    board.claim("coder", key="WEB-12")
    doc = ok(cli("doing", "Writing tests", "--as", "coder", "--json"))
    assert doc == {"agent": "coder", "task": "WEB-12", "doing": "Writing tests"}

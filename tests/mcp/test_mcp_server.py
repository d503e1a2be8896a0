"""The MCP server end to end: the `mcp` package's own client drives a server subprocess over
stdio, and the board is checked afterwards through `Deck`."""

from __future__ import annotations

import functools
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from agentdeck.core.feed import ChangeFeed
from agentdeck.core.mcp.args import MAX_TEXT
from tests.mcp.conftest import AGENT, AGENTDECK, REPO, Mcp, text_of

AGENT_TOOLS = {
    "create_task",
    "task_edit",
    "plan",
    "ready",
    "claim",
    "heartbeat",
    "doing",
    "log",
    "usage",
    "send",
    "submit",
    "done",
    "fail",
    "escalate",
    "release",
    "inbox",
    "search",
    "similar",
    "task_show",
    "task_list",
    "report",
    "comment",
}


def test_lists_the_agent_tools_with_one_sentence_descriptions(mcp: Mcp) -> None:
    tools = mcp.portal.call(mcp.session.list_tools).tools
    assert {t.name for t in tools} == AGENT_TOOLS
    for tool in tools:
        assert tool.description and len(tool.description) <= 100, tool.name
        assert tool.description.endswith(".") and ". " not in tool.description, tool.name
        assert tool.input_schema["additionalProperties"] is False, tool.name


def test_a_full_agent_cycle_lands_in_the_database(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Write the migration", actor="ann", board=board).key

    claim = mcp.ok("claim", board=board)
    assert claim["task"]["key"] == key and claim["task"]["assignee"] == AGENT
    assert mcp.ok("heartbeat", board=board) == {"held": [key]}
    mcp.ok("doing", text="Writing SQL migration", key=key)
    mcp.ok("log", key=key, text="ran alembic upgrade", kind="tool_call", data={"exit": 0})
    mcp.ok("log", key=key, text="pytest: 12 passed", kind="verification")
    crossed = mcp.ok("usage", key=key, tokens_in=1200, tokens_out=300, cost_usd=0.05, model="m1")
    assert crossed == {"task": key, "recorded": True, "budgets_crossed": []}
    done = mcp.ok("done", key=key, result="migration 0003 added")
    assert done == {
        "key": key,
        "status": "done",
        "column": "done",
        "assignee": AGENT,
        "nudge": None,
    }

    task = mcp.deck.get_task(key)
    assert (task.status, task.result, task.verified, task.tokens) == (
        "done",
        "migration 0003 added",
        True,
        1500,
    )
    detail = mcp.deck.task_detail(key)
    assert (detail.usage.tokens_in, detail.usage.cost_usd) == (1200, 0.05)
    logs = [(e.subkind, e.text, e.actor) for e in mcp.deck.task_events(key, kinds=["log"])]
    assert logs == [
        ("tool_call", "ran alembic upgrade", AGENT),
        ("verification", "pytest: 12 passed", AGENT),
    ]
    assert [e.text for e in mcp.deck.task_events(key, kinds=["doing"])] == ["Writing SQL migration"]


def test_review_notes_reach_the_agent_inbox(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Draft the report", actor="ann", board=board).key
    mcp.ok("claim", key=key)
    assert mcp.ok("submit", key=key, result="draft v1", verified_by="spell check")["status"] == (
        "review"
    )
    mcp.deck.reject(key, actor="ann", notes="cite your sources")

    peeked = mcp.ok("inbox", board=board, peek=True)["messages"]
    assert [m["text"] for m in peeked if m["kind"] == "rejection"] == [f"{key}: cite your sources"]
    assert mcp.ok("inbox", board=board)["messages"] == peeked
    assert mcp.ok("inbox", board=board)["messages"] == []


def test_a_plan_with_dependencies_unblocks_in_order(mcp: Mcp) -> None:
    board = mcp.new_board()
    planned = mcp.ok(
        "plan",
        board=board,
        tasks=[
            {"ref": "schema", "title": "Design the schema", "priority": 1},
            {
                "ref": "api",
                "title": "Build the API",
                "blocked_by": ["schema"],
                "skills": ["backend"],
            },
            {"title": "Write the docs", "blocked_by": ["schema", "api"]},
        ],
    )["tasks"]
    schema, api, docs = (t["key"] for t in planned)
    assert [t["ref"] for t in planned] == ["schema", "api", None]
    assert [t["column"] for t in planned] == ["ready", "blocked", "blocked"]
    assert mcp.deck.get_task(docs).blocked_by == (schema, api)

    assert [t["key"] for t in mcp.ok("ready", board=board, all=True)["tasks"]] == [schema]
    mcp.ok("claim", board=board)
    mcp.ok("done", key=schema, verified_by="reviewed the ERD")
    assert [t["key"] for t in mcp.ok("ready", board=board, all=True)["tasks"]] == [api]
    assert mcp.ok("ready", board=board)["tasks"] == [], "gen lacks the backend skill"
    assert [t.key for t in mcp.deck.ready(board, agent="be")] == [api]


def test_claim_with_nothing_ready_says_so_without_failing(mcp: Mcp) -> None:
    board = mcp.new_board()
    assert mcp.ok("claim", board=board)["task"] is None


def test_a_refused_move_is_an_error_result_and_writes_nothing(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Ship it", actor="ann", board=board, requires_approval=True).key
    before = mcp.deck.max_event_id()
    assert "claim it first" in mcp.error("done", {"key": key})
    assert mcp.deck.max_event_id() == before
    mcp.ok("claim", key=key)
    message = mcp.error("done", {"key": key, "verified_by": "tests"})
    assert key in message and "submit it for review" in message
    assert mcp.deck.get_task(key).status == "in_progress"
    assert mcp.error("log", {"key": key, "text": "sneaky", "actor": "be"}) == (
        "log: there is no actor argument; this server acts only as the holder of its credential"
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("claim", {"board": "X", "priority": 1}, "claim: unknown argument 'priority'"),
        ("log", {"text": "no key"}, "log: missing argument 'key'"),
        ("create_task", {"title": 5}, "title must be a string, not an integer"),
        ("usage", {"tokens_in": "10"}, "tokens_in must be an integer, not a string"),
        ("usage", {"tokens_in": -1}, "tokens_in must be from 0"),
        ("ready", {"all": "yes"}, "all must be true or false"),
        ("ready", {"limit": 0}, "limit must be from 1 to 200"),
        ("plan", {"tasks": "do it all"}, "tasks must be an array of objects"),
        (
            "plan",
            {"board": "B1", "tasks": [{"title": "a", "blocked_by": ["b"]}]},
            "unknown ref 'b'",
        ),
        ("log", {"key": "B1-1", "text": "x", "kind": "rant"}, "kind must be one of"),
        ("log", {"key": "B1-1", "text": "x", "data": [1]}, "data must be an object"),
        ("log", {"key": "B1-1", "text": "x" * (MAX_TEXT + 1)}, "text is too long"),
        ("task_show", {"key": "NOPE-1"}, "NOPE"),
        ("search", {"query": "x", "board": "b" * 300}, "board is too long"),
    ],
)
def test_bad_arguments_get_one_line_errors(
    mcp: Mcp, tool: str, arguments: dict[str, object], fragment: str
) -> None:
    assert fragment in mcp.error(tool, arguments)


def test_an_unknown_tool_is_a_protocol_error_and_the_server_survives(mcp: Mcp) -> None:
    with pytest.raises(MCPError, match="unknown tool 'approve'"):
        mcp.raw("approve", {"key": "B1-1"})
    board = mcp.new_board()
    assert mcp.ok("task_list", board=board) == {"tasks": [], "next_cursor": None}


def test_lists_page_with_a_cursor(mcp: Mcp) -> None:
    board = mcp.new_board()
    keys = [mcp.deck.add_task(f"Task {i}", actor="ann", board=board).key for i in range(5)]
    for tool, extra in (("task_list", {}), ("ready", {"all": True})):
        seen, cursor, pages = [], None, 0
        while pages == 0 or cursor is not None:
            page = mcp.ok(tool, board=board, limit=2, cursor=cursor, **extra)
            seen += [t["key"] for t in page["tasks"]]
            cursor, pages = page["next_cursor"], pages + 1
        assert (seen, pages) == (keys, 3), tool
    assert "not a page cursor: '-1'" in mcp.error("task_list", {"board": board, "cursor": "-1"})
    assert "unknown argument 'offset'" in mcp.error("ready", {"offset": 2})


def test_the_inbox_pages_and_marks_read_only_what_it_shows(mcp: Mcp) -> None:
    board = mcp.new_board()
    keys = [
        mcp.deck.add_task(f"Task {i}", actor="ann", board=board, assignee=AGENT).key
        for i in range(5)
    ]
    peeked = mcp.ok("inbox", board=board, peek=True, limit=2)
    assert [m["task"] for m in peeked["messages"]] == keys[:2]
    again = mcp.ok("inbox", board=board, peek=True, limit=2, cursor=peeked["next_cursor"])
    assert [m["task"] for m in again["messages"]] == keys[2:4]
    first = mcp.ok("inbox", board=board, limit=2)
    assert first["messages"] == peeked["messages"] and first["next_cursor"] is not None
    assert len(mcp.deck.inbox(AGENT, board=board, mark_read=False)) == 3  # the rest stay unread
    rest = mcp.ok("inbox", board=board, limit=3)
    assert [m["task"] for m in rest["messages"]] == keys[2:] and rest["next_cursor"] is None
    assert mcp.ok("inbox", board=board) == {"messages": [], "next_cursor": None}


def test_task_show_pages_the_log_backwards_with_a_cursor(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Chatty task", actor="ann", board=board).key
    mcp.ok("claim", key=key)
    for i in range(5):
        mcp.ok("log", key=key, text=f"step {i}")
    first = mcp.ok("task_show", key=key, log_limit=3)
    assert first["task"]["key"] == key
    assert [e["text"] for e in first["log"]] == ["step 2", "step 3", "step 4"]
    entries, cursor, pages = first["log"], first["next_cursor"], 1
    while cursor is not None:
        page = mcp.ok("task_show", key=key, log_limit=3, cursor=cursor)
        entries, cursor, pages = page["log"] + entries, page["next_cursor"], pages + 1
    assert pages == 3
    assert [e["kind"] for e in entries] == ["created", "claimed"] + ["log"] * 5
    assert all("data" not in e for e in entries)


def test_task_show_gives_log_entries_whole_on_request(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Chatty task", actor="ann", board=board).key
    mcp.ok("claim", key=key)
    long = "step " + "x" * 500
    mcp.ok("log", key=key, text=long, kind="tool_call", data={"exit": 3})
    [compact] = mcp.ok("task_show", key=key, log_limit=1)["log"]
    assert len(compact["text"]) < 200 and "data" not in compact
    [whole] = mcp.ok("task_show", key=key, log_limit=1, full=True)["log"]
    assert whole["text"] == long and whole["data"] == {"exit": 3}


def test_finished_work_is_searchable(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Configure nginx caching", actor="ann", board=board).key
    mcp.ok("claim", key=key)
    mcp.ok("done", key=key, result="cache headers set for static assets", verified_by="curl -I")
    new = mcp.ok("create_task", board=board, title="Tune nginx caching", blocked_by=[])["key"]
    assert [h["key"] for h in mcp.ok("search", board=board, query="nginx")["hits"]] == [key]
    assert [h["key"] for h in mcp.ok("similar", key=new)["hits"]] == [key]


def test_a_slow_write_does_not_stall_reads(mcp: Mcp) -> None:
    """A writer blocked on the SQLite lock must not hold up other calls on the same server."""
    board = mcp.new_board()
    key = mcp.deck.add_task("Contended", actor="ann", board=board).key
    lock = sqlite3.connect(mcp.deck.path, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        write = mcp.portal.start_task_soon(mcp.session.call_tool, "claim", {"key": key})
        assert mcp.ok("task_list", board=board)["tasks"][0]["status"] == "pending"
        assert not write.done(), "the claim finished while the database was locked"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert not write.result(timeout=30).is_error
    assert mcp.deck.get_task(key).status == "in_progress"


def test_a_missing_database_is_one_line_and_exit_code_one(tmp_path: Path) -> None:
    ran = subprocess.run(
        [AGENTDECK, "mcp", "--db", str(tmp_path / "none.db"), "--as", "a"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert ran.returncode == 1
    assert len(ran.stderr.strip().splitlines()) == 1 and "no agentdeck database" in ran.stderr
    assert ran.stdout == ""


def test_report_is_a_summary_and_chosen_sections_as_markdown(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Publish the findings", actor="ann", board=board).key
    mcp.ok("claim", key=key)
    summary = mcp.ok("report", board=board)
    assert (summary["board"], summary["total"], summary["done"]) == (board, 1, 0)
    assert [t["key"] for t in summary["in_progress"]] == [key]
    assert text_of(mcp.raw("report", {"board": board})) == (
        f"Board {board}: 0 of 1 done (0%); 0 need a human, 0 blocked, 1 in progress"
    )
    chosen = mcp.ok("report", board=board, sections=["in_progress"])
    markdown = chosen["markdown"]
    assert chosen["sections"] == ["in_progress"]
    assert markdown.startswith(f"# Board {board}") and "0 of 1 task done" in markdown
    assert key in markdown and "## In progress (1)" in markdown and "## Done" not in markdown
    assert "is not one of done" in mcp.error("report", {"board": board, "sections": ["gossip"]})


@pytest.mark.parametrize(
    "amounts",
    [{}, {"tokens_in": None}, {"tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0, "model": "m1"}],
    ids=["nothing", "tokens_in null", "zeros and a model"],
)
def test_usage_with_nothing_to_record_is_refused_and_records_nothing(
    mcp: Mcp, amounts: dict[str, object]
) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Spend", actor="ann", board=board).key
    mcp.ok("claim", key=key)
    before = mcp.deck.max_event_id()
    message = mcp.error("usage", {"key": key, **amounts})
    assert message.startswith("nothing to record: give at least one of tokens_in")
    assert mcp.deck.max_event_id() == before
    assert mcp.deck.usage_totals(board).tokens == 0 and mcp.deck.get_task(key).cost_usd == 0


def test_claim_with_wait_takes_a_task_that_becomes_ready_meanwhile(mcp: Mcp) -> None:
    board = f"W{next(mcp.boards)}"
    mcp.deck.create_board(board, "Short leases", actor="ann", lead="sup", lease_seconds=5)
    mcp.deck.add_agent(AGENT, actor="ann", board=board)
    mcp.deck.add_agent("be", actor="ann", board=board)
    held = mcp.deck.add_task("Held by be", actor="ann", board=board).key
    assert mcp.deck.claim("be", board=board) is not None
    # Nothing is ready when the call starts: be's lease lapsing (no commit at all) ends it.
    claimed = mcp.ok("claim", board=board, wait=120)
    assert claimed["task"]["key"] == held and claimed["task"]["assignee"] == AGENT
    # A call already waiting is woken by a task another process adds.
    call = mcp.portal.start_task_soon(mcp.session.call_tool, "claim", {"board": board, "wait": 120})
    added = mcp.deck.add_task("Added meanwhile", actor="ann", board=board).key
    result = call.result(timeout=90)
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    assert result.structured_content["task"]["key"] == added


def test_claim_and_inbox_wait_time_out_empty_and_are_capped(mcp: Mcp) -> None:
    board = mcp.new_board()
    assert mcp.ok("claim", board=board, wait=1)["task"] is None
    assert mcp.ok("inbox", board=board, wait=1)["messages"] == []
    assert mcp.error("claim", {"board": board, "wait": 301}) == (
        "claim: wait must be from 0 to 300, not 301"
    )
    assert "wait" in json.dumps(
        next(
            t for t in mcp.portal.call(mcp.session.list_tools).tools if t.name == "claim"
        ).input_schema
    )


ABANDONED_WAITER_GRACE_S = 5.0


def test_a_cancelled_waiting_claim_takes_nothing_afterwards(mcp: Mcp) -> None:
    """A client that gives up on a waiting claim (its timeout sends notifications/cancelled)
    must not have a task taken in its name later, by a wait nobody is listening to."""
    board = mcp.new_board()
    with pytest.raises(MCPError, match=r"(?i)time"):
        mcp.portal.call(
            functools.partial(
                mcp.session.call_tool,
                "claim",
                {"board": board, "wait": 300},
                read_timeout_seconds=1,
            )
        )
    mcp.ok("ready", board=board)  # the server has read the cancellation by now
    key = mcp.deck.add_task("Arrives after the client gave up", actor="ann", board=board).key
    added = mcp.deck.max_event_id()
    # A live waiter wakes on that commit and claims within tens of milliseconds (see
    # tests/bench/wake_latency.py); give it far longer than that to show itself.
    with ChangeFeed(mcp.deck) as feed:
        assert feed.wait(added, ABANDONED_WAITER_GRACE_S) == added, "an abandoned wait acted"
    assert mcp.deck.get_task(key).status == "pending"
    claimed = mcp.ok("claim", board=board)  # the same agent, asking again, gets it
    assert claimed["task"] is not None and claimed["task"]["key"] == key

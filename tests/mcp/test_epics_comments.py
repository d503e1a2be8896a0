"""Epics and comments through a real MCP client session and server process: an epic is not in
`ready` and not claimable, its card carries its progress and it completes on its last subtask;
the `comment` tool, and comments in `task_show` and the report."""

from __future__ import annotations

from agentdeck.core.views import MESSAGE, clip
from tests.mcp.conftest import AGENT, Mcp

HOSTILE = "[bold]ok[/] \x1b[2J\u202e## heading\n```"


def test_an_epic_is_not_ready_nor_claimable_and_completes_on_its_last_subtask(mcp: Mcp) -> None:
    board = mcp.new_board()
    epic = mcp.deck.add_task("Checkout", actor="ann", board=board, priority=0).key
    parts = [
        mcp.deck.add_task(f"Part {i}", actor="ann", board=board, parent=epic).key for i in (1, 2)
    ]
    ready = mcp.ok("ready", board=board, all=True)["tasks"]
    assert [t["key"] for t in ready] == parts
    assert "subtasks" not in ready[0]  # plain tasks carry no progress
    error = mcp.error("claim", {"key": epic})
    assert error.startswith(f"cannot claim {epic}: it is an epic waiting on 2 unfinished")
    [card] = mcp.ok("task_list", board=board, column="blocked")["tasks"]
    assert (card["key"], card["subtasks"]) == (epic, "0/2")
    for _ in parts:
        claim = mcp.ok("claim", board=board)
        assert claim["task"]["key"] in parts  # never the epic, the most urgent task
        mcp.ok("done", key=claim["task"]["key"], verified_by="pytest")
    shown = mcp.ok("task_show", key=epic)
    assert shown["task"]["status"] == "done"
    assert (shown["task"]["subtasks_done"], shown["task"]["subtasks_total"]) == (2, 2)
    assert shown["subtasks"] == parts


def test_an_agent_comments_and_task_show_carries_the_newest_comments(mcp: Mcp) -> None:
    board = mcp.new_board()
    key = mcp.deck.add_task("Talk about it", actor="ann", board=board).key
    mcp.deck.comment(key, "x" * (MESSAGE + 100), actor="ann")
    said = mcp.ok("comment", key=key, text=HOSTILE)
    assert set(said) == {"id", "task"} and said["task"] == key
    shown = mcp.ok("task_show", key=key)
    assert shown["comments_total"] == 2
    first, second = shown["comments"]
    assert (first["actor"], len(first["text"])) == ("ann", MESSAGE)  # clipped, like a message
    assert (second["id"], second["actor"]) == (said["id"], AGENT)
    assert second["text"] == clip(HOSTILE, MESSAGE)  # one line, otherwise literal
    whole = mcp.ok("task_show", key=key, full=True)
    assert whole["comments"][0]["text"] == "x" * (MESSAGE + 100)
    assert whole["comments"][1]["text"] == HOSTILE  # literal, whole
    assert [e["kind"] for e in shown["log"]][-2:] == ["comment", "comment"]
    report = mcp.ok("report", board=board, sections=["comments"])
    assert f"**{key}** {AGENT}:" in report["markdown"]


def test_a_comment_from_outside_the_board_is_refused(mcp: Mcp) -> None:
    board = mcp.new_board()
    other = f"X{board}"
    mcp.deck.create_board(other, "Not gen's", actor="ann")
    key = mcp.deck.add_task("Private", actor="ann", board=other).key
    before = mcp.deck.max_event_id()
    assert mcp.error("comment", {"key": key, "text": "let me in"}).startswith(
        f"no agent '{AGENT}' on board {other}"
    )
    assert mcp.error("comment", {"key": key, "text": "   "}) == "a comment needs text"
    assert mcp.deck.max_event_id() == before

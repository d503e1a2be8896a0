"""`task_edit`, labels and types through a live MCP server, as an agent would try them: a
server per backend acting as `gen` by its token, a human (`ann`) and the lead (`sup`)
acting through the deck beside it.

What an agent may not do is refused with one line and the error's code; what it may do
comes back as the receipt its output schema declares (the client checks it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from mcp import StdioServerParameters

from agentdeck.core import Deck
from tests.backends import BACKENDS, database_url
from tests.mcp.conftest import AGENT, AGENTDECK, REPO, Mcp, connected

BOARD = "ED"


@pytest.fixture(scope="module", params=BACKENDS)
def mcp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    home = tmp_path_factory.mktemp(f"edit-{request.param}")
    url = database_url(str(request.param), home)
    with Deck.open(url, create=True) as deck:
        deck.create_board(BOARD, "Edits", actor="ann", lead="sup", agents="token")
        deck.add_agent(AGENT, actor="ann", board=BOARD)
        deck.add_agent("be", actor="ann", board=BOARD, skills=["backend"])
        params = StdioServerParameters(
            command=AGENTDECK,
            args=["mcp", "--db", url],
            env={
                "PYTHONPATH": str(REPO),
                "AGENTDECK_DB": "",
                "AGENTDECK_AS": "",
                "AGENTDECK_TOKEN": deck.issued_token(AGENT, BOARD) or "",
            },
            cwd=str(REPO),
        )
        errlog = home / "server.log"
        with (
            start_blocking_portal() as portal,
            portal.wrap_async_context_manager(connected(params, errlog)) as session,
        ):
            yield Mcp(portal, session, deck, iter(()))
    assert "Traceback" not in errlog.read_text(), "the server logged a crash"


def task(mcp: Mcp, title: str, actor: str = "ann", **fields: Any) -> str:
    return mcp.deck.add_task(title, actor=actor, board=BOARD, **fields).key


def version(mcp: Mcp, key: str) -> int:
    return mcp.deck.get_task(key).version


def refused(mcp: Mcp, code: int, *fragments: str, **arguments: Any) -> None:
    """`task_edit` with these arguments is refused with `code`, its message holding every
    fragment, and nothing is written."""
    events = mcp.deck.max_event_id()
    result = mcp.raw("task_edit", arguments)
    assert result.is_error
    assert isinstance(result.structured_content, dict)
    message = result.structured_content["error"]
    assert result.structured_content["code"] == code, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert mcp.deck.max_event_id() == events, "a refused edit wrote an event"


def test_an_agent_edits_the_task_it_created(mcp: Mcp) -> None:
    blocker = task(mcp, "Design the schema")
    key = mcp.ok("create_task", board=BOARD, title="Write docs", labels=["Docs"], type="chore")[
        "key"
    ]
    card = mcp.ok("task_list", board=BOARD, label="docs")["tasks"][0]
    assert (card["key"], card["type"], card["labels"]) == (key, "chore", ["docs"])
    receipt = mcp.ok(
        "task_edit",
        key=key,
        version=1,
        title="Write the user guide",
        criteria="Covers install\nand upgrade",
        add_dependencies=[blocker],
        add_labels=["guide"],
        remove_labels=["DOCS"],
        type="feature",
        parent=blocker,
        estimate_hours=1.5,
    )
    assert receipt == {
        "key": key,
        "version": 2,
        "changed": [
            "title",
            "criteria",
            "estimate_hours",
            "parent",
            "dependencies",
            "labels",
            "type",
        ],
    }
    t = mcp.deck.get_task(key)
    assert (t.title, t.criteria, t.labels, t.type, t.parent) == (
        "Write the user guide",
        "Covers install\nand upgrade",
        ("guide",),
        "feature",
        blocker,
    )
    again = mcp.ok("task_edit", key=key, version=2, title="Write the user guide", parent="")
    assert again["changed"] == ["parent"] and mcp.deck.get_task(key).parent is None
    same = mcp.ok("task_edit", key=key, version=3, add_labels=["GUIDE"])
    assert same == {"key": key, "version": 3, "changed": []}


def test_the_version_is_required_and_checked(mcp: Mcp) -> None:
    key = mcp.ok("create_task", board=BOARD, title="Mine")["key"]
    assert "missing argument 'version'" in mcp.error("task_edit", {"key": key, "title": "x"})
    for forged in (0, 2, 10**6):
        refused(mcp, 2, "changed since you saw it", key=key, version=forged, title="x")
    assert "must be an integer" in mcp.error("task_edit", {"key": key, "version": "1"})
    assert "there is no actor argument" in mcp.error(
        "task_edit", {"key": key, "version": 1, "actor": "ann", "title": "x"}
    )


def test_another_agents_or_a_humans_task_is_refused(mcp: Mcp) -> None:
    theirs = task(mcp, "Ann's task")
    for attempt in (
        {"title": "Mine now"},
        {"add_labels": ["x"]},
        {"criteria_note": "I was here"},
        {"add_dependencies": [task(mcp, "Other")]},
    ):
        refused(
            mcp,
            2,
            f"gen cannot edit {theirs}",
            "only its creator (ann)",
            key=theirs,
            version=1,
            **attempt,
        )
    bes = task(mcp, "Be's task", actor="be")
    refused(mcp, 2, "only its creator (be)", key=bes, version=1, priority=0)


def test_the_holder_adds_dependencies_and_notes_but_does_not_rewrite(mcp: Mcp) -> None:
    key = task(mcp, "Build the form", criteria="- [ ] validates e-mail")
    found = task(mcp, "Fix the date picker")
    assert mcp.ok("claim", board=BOARD, key=key)["task"]["key"] == key
    v = version(mcp, key)
    refused(
        mcp, 2, "gen cannot change the criteria", key=key, version=v, criteria="- [ ] it builds"
    )
    refused(mcp, 2, "gen cannot change the title", key=key, version=v, title="Easier")
    refused(mcp, 2, "the remove dependencies", key=key, version=v, remove_dependencies=[found])
    receipt = mcp.ok(
        "task_edit", key=key, version=v, add_dependencies=[found], criteria_note="picker first"
    )
    assert receipt["changed"] == ["criteria", "dependencies"]
    t = mcp.deck.get_task(key)
    assert t.criteria == "- [ ] validates e-mail\n- Note from gen: picker first"
    assert t.blocked_by == (found,) and t.status == "in_progress"
    # A dependency that closes a cycle is refused, for the holder as for anyone.
    after = task(mcp, "Ship the form", blocked_by=[key])
    refused(
        mcp, 2, f"{key} cannot wait on {after}", key=key, version=v + 1, add_dependencies=[after]
    )


def test_a_humans_edit_and_the_agents_move_conflict(mcp: Mcp) -> None:
    """ann reads the task, gen claims it through MCP, ann's edit on what she saw is refused;
    gen reads the task, ann edits it, gen's edit on what it saw is refused."""
    key = task(mcp, "Race")
    seen = version(mcp, key)
    mcp.ok("claim", board=BOARD, key=key)
    with pytest.raises(Exception, match="changed since you saw it"):
        mcp.deck.edit_task(key, actor="ann", expected_version=seen, priority=0)
    mine = mcp.ok("create_task", board=BOARD, title="Mine")["key"]
    seen = version(mcp, mine)
    mcp.deck.edit_task(mine, actor="ann", expected_version=seen, title="Ann's title")
    refused(mcp, 2, "now version 2, you had 1", key=mine, version=seen, title="gen's title")
    assert mcp.deck.get_task(mine).title == "Ann's title"


def test_cycles_and_finished_tasks_are_refused(mcp: Mcp) -> None:
    a = mcp.ok("create_task", board=BOARD, title="A")["key"]
    b = mcp.ok("create_task", board=BOARD, title="B", blocked_by=[a])["key"]
    refused(mcp, 2, f"{a} cannot wait on {b}", key=a, version=1, add_dependencies=[b])
    done = mcp.ok("create_task", board=BOARD, title="Finish me")["key"]
    mcp.ok("claim", board=BOARD, key=done)
    mcp.ok("done", key=done, verified_by="pytest")
    v = version(mcp, done)
    refused(mcp, 2, "it is done", "only its labels may change", key=done, version=v, title="x")
    assert mcp.ok("task_edit", key=done, version=v, add_labels=["shipped"])["changed"] == ["labels"]


def test_labels_filter_ready_and_plans_take_labels_types_and_criteria_lists(mcp: Mcp) -> None:
    made = mcp.ok(
        "plan",
        board=BOARD,
        tasks=[
            {"ref": "e", "title": "Checkout", "type": "epic", "labels": ["shop"]},
            {
                "title": "Pay",
                "parent": "e",
                "labels": ["Shop", "payments"],
                "criteria": ["Cards work", "Refunds work"],
            },
        ],
    )
    pay = made["tasks"][1]["key"]
    assert mcp.deck.get_task(pay).criteria == "- [ ] Cards work\n- [ ] Refunds work"
    ready = mcp.ok("ready", board=BOARD, label="PAYMENTS", all=True)["tasks"]
    assert [(c["key"], c["labels"]) for c in ready] == [(pay, ["payments", "shop"])]
    assert "label 'two words'" in mcp.error("ready", {"board": BOARD, "label": "two words"})
    assert "type must be one of" in mcp.error(
        "plan", {"board": BOARD, "tasks": [{"title": "x", "type": "story"}]}
    )
    summary = mcp.ok("report", board=BOARD, label="payments")
    assert summary["label"] == "payments" and summary["total"] == 1

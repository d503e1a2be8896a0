"""Native export/import of a whole board: a faithful round trip, time rebasing, a newer format
refused, and malformed documents refused with the field path and nothing written."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck, ValidationError
from tests.conftest import START, FakeClock, make_web_board
from tests.core.helpers import Refused, claim_key

HOUR = 3600
DAY = 24 * HOUR
SHA = "0123456789abcdef0123456789abcdef01234567"


def busy_board(deck: Deck, clock: FakeClock) -> dict[str, str]:
    """WEB after two days of work: a plan with an epic, dependencies, every status, logs,
    usage, budgets on every scope, inbox messages, a checkpoint and finished work to search."""
    make_web_board(deck, lease_seconds=DAY, due_at=START + timedelta(days=14))
    refs = ["epic", "schema", "api", "ui", "docs", "old", "flaky"]
    tasks = deck.plan(
        [
            {"ref": "epic", "title": "Launch the site", "priority": 0, "type": "epic"},
            {
                "ref": "schema",
                "title": "Design the schema",
                "parent": "epic",
                "skills": ["backend"],
                "description": "Tables for users and orders",
                "criteria": ["Migrations run on an empty database", "Orders have states"],
                "labels": ["backend", "DB"],
            },
            {
                "ref": "api",
                "title": "Build the orders API",
                "parent": "epic",
                "blocked_by": ["schema"],
                "requires_approval": True,
                "estimate_hours": 3.5,
            },
            {
                "ref": "ui",
                "title": "Build the checkout page",
                "parent": "epic",
                "blocked_by": ["api"],
                "assignee": "fe",
                "priority": 1,
            },
            {"ref": "docs", "title": "Write the user guide", "blocked_by": ["epic"]},
            {"ref": "old", "title": "Port to Flash"},
            {"ref": "flaky", "title": "Load-test checkout", "priority": 3},
        ],
        actor="sup",
    )
    k = dict(zip(refs, [t.key for t in tasks], strict=True))
    clock.advance(HOUR)
    claim_key(deck, k["schema"], "be")
    deck.doing("be", "Sketching tables", key=k["schema"])
    deck.log(k["schema"], "Chose PostgreSQL enums for order states", actor="be", kind="decision")
    deck.record_usage(k["schema"], actor="be", tokens_in=12000, tokens_out=3400, cost_usd=0.42)
    deck.checkpoint(k["schema"], actor="be", sha=SHA, message="Add schema", files=["schema.sql"])
    clock.advance(2 * HOUR)
    deck.complete(k["schema"], actor="be", result="Users and orders tables", verified_by="pytest")
    claim_key(deck, k["api"], "be")
    clock.advance(HOUR)
    deck.submit(k["api"], actor="be", result="CRUD endpoints", verified_by="pytest")
    deck.reject(k["api"], actor="bob", notes="Pagination is missing")
    claim_key(deck, k["api"], "be")
    deck.record_usage(k["api"], actor="be", tokens_in=8000, tokens_out=2000, cost_usd=0.3)
    clock.advance(HOUR)
    deck.submit(k["api"], actor="be", result="CRUD endpoints with cursor pagination")
    deck.approve(k["api"], actor="bob", note="Looks right")
    clock.advance(DAY)
    claim_key(deck, k["ui"], "fe")
    deck.doing("fe", "Styling the order summary", key=k["ui"])
    deck.log(k["ui"], "npm test", actor="fe", kind="tool_call", data={"exit": 0})
    deck.record_usage(k["ui"], actor="fe", tokens_in=500, tokens_out=100, gpu_seconds=12.5)
    claim_key(deck, k["flaky"], "gen")
    deck.fail(k["flaky"], actor="gen", reason="The staging box ran out of memory")
    deck.cancel(k["old"], actor="ann", reason="Nobody uses Flash")
    deck.set_budget("cost_usd", actor="ann", soft=0.5, hard=5)
    deck.set_budget("tokens", actor="ann", scope="agent", subject="be", hard=20000)
    deck.set_budget("cost_usd", actor="ann", scope="task", subject=k["api"], soft=0.1)
    deck.inbox("be")  # be has read its messages; gen has one unread
    deck.assign(k["docs"], "gen", actor="ann")
    version = deck.get_task(k["docs"]).version
    deck.edit_task(
        k["docs"], actor="ann", expected_version=version, add_labels=["docs"], type="chore"
    )
    clock.advance(HOUR)
    return k


def rekeyed(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`doc` with its board and every task reference moved from key `old` to `new`."""
    out = copy.deepcopy(doc)

    def move(item: dict[str, Any], field: str) -> None:
        if item.get(field):
            item[field] = new + item[field][len(old) :]

    out["board"]["key"] = new
    for t in out["tasks"]:
        move(t, "key")
        move(t, "parent")
    for a in out["agents"]:
        move(a, "current_task")
    for d in out["dependencies"]:
        move(d, "task")
        move(d, "blocked_by")
    for section in ("events", "usage", "messages", "checkpoints"):
        for item in out[section]:
            move(item, "task")
    for b in out["budgets"]:
        if b["scope"] == "task":
            move(b, "subject")
    return out


def as_json(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as it would be after a trip through a file."""
    return json.loads(json.dumps(doc))


def test_a_round_trip_under_a_new_key_preserves_the_board(deck: Deck, clock: FakeClock) -> None:
    k = busy_board(deck, clock)
    doc = as_json(deck.export_board("WEB"))
    assert (doc["format"], doc["version"]) == ("agentdeck-board", 1)
    board = deck.import_board(doc, actor="ann", key="COPY")
    assert (board.key, board.name, board.due_at) == ("COPY", "Website", START + timedelta(14))
    again = as_json(deck.export_board("COPY"))
    # The same moment where time stands still (SQLite), a later one on PostgreSQL.
    assert datetime.fromisoformat(again["exported_at"]) >= datetime.fromisoformat(
        doc["exported_at"]
    )
    assert {**again, "exported_at": doc["exported_at"]} == rekeyed(doc, "WEB", "COPY")

    def swap(key: str) -> str:
        return key.replace("WEB-", "COPY-")

    # What a user sees through the API is the same board under the new key.
    web_tasks = deck.list_tasks("WEB", include_cancelled=True)
    copy_tasks = deck.list_tasks("COPY", include_cancelled=True)
    assert [(swap(t.key), t.status, t.column, t.version) for t in web_tasks] == [
        (t.key, t.status, t.column, t.version) for t in copy_tasks
    ]
    for w, c in zip(web_tasks, copy_tasks, strict=True):
        wd, cd = w.to_dict(), c.to_dict()
        for field in ("key", "board", "parent", "blocked_by"):
            wd.pop(field), cd.pop(field)
        assert wd == cd, w.key
        assert c.parent == (swap(w.parent) if w.parent else None)
        assert list(c.blocked_by) == [swap(b) for b in w.blocked_by]
    assert deck.counts("COPY") == deck.counts("WEB")
    assert [t.key for t in deck.ready("COPY")] == [swap(t.key) for t in deck.ready("WEB")]

    web_events = deck.events_since(0, board="WEB")
    copy_events = deck.events_since(0, board="COPY")
    assert len(copy_events) == len(web_events) > 30
    assert [(e.kind, e.subkind, e.actor, e.text, e.data, e.created_at) for e in copy_events] == [
        (e.kind, e.subkind, e.actor, e.text, e.data, e.created_at) for e in web_events
    ]
    assert [e.task for e in copy_events] == [swap(e.task) if e.task else None for e in web_events]

    assert deck.usage_totals("COPY") == deck.usage_totals("WEB")
    assert deck.usage_totals("COPY", agent="be") == deck.usage_totals("WEB", agent="be")
    assert deck.usage_totals(task=swap(k["api"])) == deck.usage_totals(task=k["api"])
    web_budgets = deck.budget_status("WEB")
    assert [b.level for b in web_budgets] == ["over", "warn", "warn"]
    assert [
        (b.scope, swap(b.subject), b.metric, b.used, b.soft, b.hard, b.level) for b in web_budgets
    ] == [
        (b.scope, b.subject, b.metric, b.used, b.soft, b.hard, b.level)
        for b in deck.budget_status("COPY")
    ]
    assert [c.to_dict() for c in deck.checkpoints(swap(k["schema"]))] == [
        {**c.to_dict(), "task": swap(c.task)} for c in deck.checkpoints(k["schema"])
    ]
    gen_inbox = deck.inbox("gen", board="COPY", mark_read=False)
    assert [(m.sender, m.kind, m.text) for m in gen_inbox] == [
        (m.sender, m.kind, m.text) for m in deck.inbox("gen", board="WEB", mark_read=False)
    ]
    assert [m.task for m in gen_inbox] == [swap(k["docs"])]
    assert deck.inbox("be", board="COPY", mark_read=False) == []

    for query in ("orders", "pagination", "enums"):
        web_hits = deck.search(query, board="WEB")
        assert web_hits, query
        assert [(swap(h.key), h.title, h.score) for h in web_hits] == [
            (h.key, h.title, h.score) for h in deck.search(query, board="COPY")
        ]
    web_burn, copy_burn = deck.burndown("WEB"), deck.burndown("COPY")
    # The same but for the moment each was drawn at (the series runs on to now).
    assert copy_burn.points[:-1] == web_burn.points[:-1]
    assert [(p.open, p.scope) for p in (*copy_burn.points[-1:], *copy_burn.forecast)] == [
        (p.open, p.scope) for p in (*web_burn.points[-1:], *web_burn.forecast)
    ]
    assert (copy_burn.ideal, copy_burn.throughput_per_day) == (
        web_burn.ideal,
        web_burn.throughput_per_day,
    )
    # New tasks continue the imported numbering.
    assert deck.add_task("After the import", actor="ann", board="COPY").key == "COPY-8"


def test_rebase_time_moves_the_export_moment_to_now(deck: Deck, clock: FakeClock) -> None:
    busy_board(deck, clock)
    doc = as_json(deck.export_board("WEB"))
    exported_at = datetime.fromisoformat(doc["exported_at"])
    clock.advance(30 * DAY + 123)
    before = deck.now()
    deck.import_board(doc, actor="ann", key="LATER", rebase_time=True)
    after = deck.now()
    later = as_json(deck.export_board("LATER"))
    # The export moment became the import's now: exactly where time stands still (SQLite),
    # between two readings of the server's time on PostgreSQL.
    created = [datetime.fromisoformat(d["board"]["created_at"]) for d in (doc, later)]
    shift = created[1] - created[0]
    assert before - exported_at <= shift <= after - exported_at
    assert after <= datetime.fromisoformat(later["exported_at"]) <= deck.now()

    def shifted(value: str | None) -> str | None:
        return (datetime.fromisoformat(value) + shift).isoformat() if value else value

    expected = rekeyed(doc, "WEB", "LATER")
    expected["exported_at"] = later["exported_at"]
    for field in ("due_at", "created_at"):
        expected["board"][field] = shifted(expected["board"][field])
    for t in expected["tasks"]:
        for field in ("created_at", "started_at", "completed_at", "updated_at", "lease_expires_at"):
            t[field] = shifted(t[field])
    for a in expected["agents"]:
        a["created_at"], a["last_heartbeat"] = (
            shifted(a["created_at"]),
            shifted(a["last_heartbeat"]),
        )
    for section in ("events", "usage", "checkpoints"):
        for item in expected[section]:
            item["created_at"] = shifted(item["created_at"])
    for m in expected["messages"]:
        m["created_at"], m["read_at"] = shifted(m["created_at"]), shifted(m["read_at"])
    assert later == expected
    # The history ends today, so the forecast sees recent throughput.
    before = deck.now()
    burn = deck.burndown("LATER")
    assert before <= burn.points[-1].at <= deck.now() and burn.throughput_per_day > 0
    assert deck.burndown("WEB").throughput_per_day == 0.0


def test_without_rebase_times_are_kept(deck: Deck, clock: FakeClock) -> None:
    busy_board(deck, clock)
    doc = as_json(deck.export_board("WEB"))
    clock.advance(30 * DAY)
    deck.import_board(doc, actor="ann", key="SAME")
    assert deck.get_task("SAME-2").completed_at == deck.get_task("WEB-2").completed_at


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One busy board's export, built once and shared by the refusal cases."""
    clock = FakeClock()
    with Deck.open(tmp_path_factory.mktemp("source") / "board.db", create=True, clock=clock) as d:
        busy_board(d, clock)
        return as_json(d.export_board("WEB"))


def test_a_newer_format_version_is_refused_clearly(
    web: Deck, exported: dict[str, Any], refused: Refused
) -> None:
    doc = {**exported, "version": 2}
    with refused(ValidationError, "format version 2 is newer", "upgrade agentdeck"):
        web.import_board(doc, actor="ann", key="COPY")


def test_an_existing_key_is_refused(web: Deck, exported: dict[str, Any], refused: Refused) -> None:
    with refused(ValidationError, "board WEB already exists", "another key"):
        web.import_board(exported, actor="ann")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets `a.b[2].c` in a document (or deletes it when value is DELETE)."""

    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return apply


DELETE = object()


def _cycle(doc: dict[str, Any]) -> None:
    # WEB-3 already waits on WEB-2; make WEB-2 wait on WEB-4, which waits on WEB-3.
    doc["dependencies"].append({"task": "WEB-2", "blocked_by": "WEB-4"})


def _duplicate_task(doc: dict[str, Any]) -> None:
    doc["tasks"][3] = {**doc["tasks"][3], "key": doc["tasks"][1]["key"]}


def _duplicate_agent(doc: dict[str, Any]) -> None:
    doc["agents"].append(dict(doc["agents"][2]))


def _duplicate_dependency(doc: dict[str, Any]) -> None:
    doc["dependencies"].append(dict(doc["dependencies"][0]))


def _duplicate_budget(doc: dict[str, Any]) -> None:
    doc["budgets"].append(dict(doc["budgets"][0]))


MALFORMED: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[str, ...]]] = {
    "unknown status": (_set("tasks[3].status", "finished"), ("tasks[3].status", "'finished'")),
    "status of the wrong type": (_set("tasks[3].status", 3), ("tasks[3].status", "expected text")),
    "priority as text": (_set("tasks[0].priority", "high"), ("tasks[0].priority",)),
    "priority out of range": (_set("tasks[0].priority", 9), ("tasks[0].priority",)),
    "empty title": (_set("tasks[1].title", "  "), ("tasks[1].title",)),
    "missing title": (_set("tasks[1].title", DELETE), ("tasks[1].title", "missing")),
    "task not an object": (_set("tasks[2]", "WEB-3"), ("tasks[2]", "expected an object")),
    "tasks not a list": (_set("tasks", {"WEB-1": {}}), ("tasks", "expected a list")),
    "malformed task key": (_set("tasks[4].key", "five"), ("tasks[4].key",)),
    "task of another board": (_set("tasks[4].key", "API-5"), ("tasks[4].key", "not on board WEB")),
    "duplicate task key": (_duplicate_task, ("tasks[3].key", "duplicate")),
    "duplicate agent": (_duplicate_agent, ("agents[6].name", "twice")),
    "unknown agent kind": (_set("agents[1].kind", "robot"), ("agents[1].kind",)),
    "unknown assignee": (_set("tasks[3].assignee", "ghost"), ("tasks[3].assignee", "'ghost'")),
    "dangling parent": (_set("tasks[2].parent", "WEB-99"), ("tasks[2].parent", "'WEB-99'")),
    "dangling dependency": (
        _set("dependencies[0].blocked_by", "WEB-99"),
        ("dependencies[0].blocked_by", "WEB-99"),
    ),
    "dependency cycle": (_cycle, ("dependencies", "cycle")),
    # Found by tests/fuzz: both were an "unexpected IntegrityError" from a unique constraint.
    "duplicate dependency": (_duplicate_dependency, ("dependencies[", "appears twice")),
    "duplicate budget": (_duplicate_budget, ("budgets[", "a second")),
    "dangling event task": (_set("events[5].task", "WEB-42"), ("events[5].task", "WEB-42")),
    "bad event time": (_set("events[5].created_at", "yesterday"), ("events[5].created_at",)),
    "event data not an object": (_set("events[5].data", [1, 2]), ("events[5].data",)),
    "usage count as text": (_set("usage[0].tokens_in", "many"), ("usage[0].tokens_in",)),
    "usage count too big": (_set("usage[0].tokens_in", 10**30), ("usage[0].tokens_in",)),
    "usage cost not finite": (_set("usage[0].cost_usd", float("inf")), ("usage[0].cost_usd",)),
    # Found by review: a negative or NaN limit turned a budget off; NaN or an infinity inside
    # event data or checkpoint files was stored, and every later export was invalid JSON.
    "budget hard limit negative": (
        _set("budgets[0].hard", -5),
        ("budgets[0].hard", "hard limit must be a finite number >= 0, not -5.0"),
    ),
    "budget soft limit NaN": (_set("budgets[0].soft", float("nan")), ("budgets[0].soft",)),
    "budget hard limit infinite": (_set("budgets[0].hard", float("inf")), ("budgets[0].hard",)),
    "usage cost negative": (
        _set("usage[0].cost_usd", -0.01),
        ("usage[0].cost_usd", "finite number from 0 to 1e9"),
    ),
    "usage count negative": (
        _set("usage[0].tokens_out", -1),
        ("usage[0].tokens_out", "2147483647"),
    ),
    "NaN deep in event data": (
        _set("events[5].data", {"a": [{"b": {"c": [1, float("nan")]}}]}),
        ("events[5].data", "JSON numbers must be finite, not nan"),
    ),
    "infinity in checkpoint files": (
        _set("checkpoints[0].files", ["a.py", float("-inf")]),
        ("checkpoints[0].files", "JSON numbers must be finite, not -inf"),
    ),
    "skills not text": (_set("tasks[1].skills", [1]), ("tasks[1].skills", "text")),
    "usage by a stranger": (_set("usage[1].agent", "mallory"), ("usage[1].agent",)),
    "unknown budget metric": (_set("budgets[0].metric", "bananas"), ("budgets[0]", "bananas")),
    "budget on a dangling task": (_set("budgets[2].subject", "WEB-77"), ("budgets[2].subject",)),
    "message without recipient": (_set("messages[0].to", None), ("messages[0].to",)),
    "checkpoint on another board": (_set("checkpoints[0].task", "API-1"), ("checkpoints[0].task",)),
    "board missing": (_set("board", DELETE), ("board", "missing")),
    "bad board key": (_set("board.key", "web site"), ("board key",)),
    "lease past a year": (_set("board.lease_seconds", 2**63 - 1), ("board.lease_seconds",)),
    "wrong format": (_set("format", "trello"), ("format", "'trello'")),
    "version as text": (_set("version", "1"), ("version",)),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_document_names_the_field_and_imports_nothing(
    web: Deck, exported: dict[str, Any], refused: Refused, case: str
) -> None:
    mutate, fragments = MALFORMED[case]
    doc = copy.deepcopy(exported)
    mutate(doc)
    boards = web.list_boards()
    with refused(ValidationError, *fragments):
        web.import_board(doc, actor="ann", key="COPY")
    assert web.list_boards() == boards


@pytest.mark.parametrize("doc", [None, [], "agentdeck-board", 7])
def test_a_document_that_is_not_an_object_is_refused(web: Deck, refused: Refused, doc: Any) -> None:
    with refused(ValidationError, "document: expected an object"):
        web.import_board(doc, actor="ann", key="COPY")


def test_the_exported_document_is_plain_json(exported: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "web.json"
    path.write_text(json.dumps(exported, indent=1))
    assert json.loads(path.read_text()) == exported
    sections = ("agents", "tasks", "dependencies", "events", "usage", "budgets", "messages")
    assert all(exported[s] for s in (*sections, "checkpoints"))

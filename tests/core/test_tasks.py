"""Tasks, dependencies and plans: creating them, the Blocked/Ready columns, cycles refused."""

from __future__ import annotations

from typing import Any

import pytest

from agentdeck.core import CycleError, Deck, DeckError, NotFoundError, ValidationError
from tests.core.helpers import Refused, claim_key, events_after, kinds, task_in


def test_add_task_fields_and_created_event(web: Deck) -> None:
    cursor = web.max_event_id()
    task = web.add_task(
        "Build the login form",
        actor="sup",
        description="Email and password",
        criteria="Tests pass",
        priority=1,
        skills=["Frontend"],
        requires_approval=True,
        estimate_hours=2.5,
    )
    assert task.key == "WEB-1" and task.board == "WEB"
    assert (task.status, task.column, task.version) == ("pending", "ready", 1)
    assert (task.description, task.criteria, task.priority) == (
        "Email and password",
        "Tests pass",
        1,
    )
    assert task.required_skills == ("frontend",)
    assert task.requires_approval and task.estimate_hours == 2.5
    assert task.assignee is None and task.blocked_by == ()
    [event] = events_after(web, cursor)
    assert (event.kind, event.actor, event.task, event.text) == (
        "created",
        "sup",
        "WEB-1",
        "Build the login form",
    )
    assert web.add_task("Second", actor="ann").key == "WEB-2"


def test_add_task_assigned_notifies_the_assignee(web: Deck) -> None:
    cursor = web.max_event_id()
    task = web.add_task("Build the login form", actor="ann", assignee="fe")
    assert task.assignee == "fe"
    assert kinds(events_after(web, cursor)) == [
        ("created", ""),
        ("assigned", ""),
        ("message", "assignment"),
    ]
    [message] = web.inbox("fe")
    assert (message.task, message.kind, message.sender) == ("WEB-1", "assignment", "ann")


def test_add_task_refusals(web: Deck, refused: Refused) -> None:
    with refused(NotFoundError, "mallory"):
        web.add_task("Anything", actor="mallory")
    with refused(NotFoundError, "nobody"):
        web.add_task("Anything", actor="ann", assignee="nobody")
    with refused(ValidationError, "priority"):
        web.add_task("Anything", actor="ann", priority=5)
    with refused(ValidationError, "estimate_hours"):
        web.add_task("Anything", actor="ann", estimate_hours=-1)
    with refused(NotFoundError, "WEB-9"):
        web.add_task("Anything", actor="ann", blocked_by=["WEB-9"])
    with refused(NotFoundError, "WEB-9"):
        web.add_task("Anything", actor="ann", parent="WEB-9")


def test_get_task_unknown_or_malformed_key(web: Deck) -> None:
    with pytest.raises(NotFoundError, match="no task WEB-7"):
        web.get_task("WEB-7")
    with pytest.raises(NotFoundError, match="NOPE"):
        web.get_task("NOPE-1")
    with pytest.raises(ValidationError, match="not a task key"):
        web.get_task("login form")


def test_keys_are_case_insensitive(web: Deck) -> None:
    web.add_task("Build the login form", actor="ann")
    assert web.get_task("web-1").key == "WEB-1"


def test_list_tasks_orders_by_priority_then_age_and_filters(web: Deck) -> None:
    low = web.add_task("Low", actor="ann", priority=3).key
    urgent = web.add_task("Urgent", actor="ann", priority=0).key
    also_low = web.add_task("Also low", actor="ann", priority=3).key
    assert [t.key for t in web.list_tasks()] == [urgent, low, also_low]
    claim_key(web, low, "fe")
    web.cancel(also_low, actor="ann")
    assert [t.key for t in web.list_tasks()] == [urgent, low]
    assert [t.key for t in web.list_tasks(include_cancelled=True)] == [urgent, low, also_low]
    assert [t.key for t in web.list_tasks(status="in_progress")] == [low]
    assert [t.key for t in web.list_tasks(assignee="fe")] == [low]
    assert [t.key for t in web.list_tasks(column="ready")] == [urgent]
    assert [t.key for t in web.list_tasks(limit=1, offset=1)] == [low]
    with pytest.raises(ValidationError, match="unknown column"):
        web.list_tasks(column="someday")


def test_blocked_until_blocker_done_then_ready(web: Deck) -> None:
    schema = web.add_task("Design the schema", actor="ann").key
    api = web.add_task("Write the API", actor="ann", blocked_by=[schema]).key
    assert web.get_task(api).column == "blocked"
    assert web.get_task(api).blocked_by == (schema,)
    assert [t.key for t in web.ready()] == [schema]
    assert web.counts().by_column == {"ready": 1, "blocked": 1}
    claim_key(web, schema)
    web.complete(schema, actor="gen", verified_by="pytest")
    assert web.get_task(api).column == "ready"
    assert web.get_task(api).blocked_by == ()
    assert [t.key for t in web.ready()] == [api]
    assert web.counts().by_column == {"ready": 1, "done": 1}


def test_reopened_blocker_blocks_again(web: Deck) -> None:
    schema = task_in(web, "done", "Design the schema")
    api = web.add_task("Write the API", actor="ann", blocked_by=[schema]).key
    assert web.get_task(api).column == "ready"
    web.reopen(schema, actor="ann", notes="missing an index")
    assert web.get_task(api).column == "blocked"
    assert web.get_task(api).blocked_by == (schema,)
    assert web.claim("gen", key=None) is not None  # takes the schema task, not the API task
    assert web.get_task(schema).status == "in_progress"
    assert web.get_task(api).status == "pending"


def test_cancelled_blocker_unblocks(web: Deck) -> None:
    schema = web.add_task("Design the schema", actor="ann").key
    api = web.add_task("Write the API", actor="ann", blocked_by=[schema]).key
    web.cancel(schema, actor="ann", reason="use the old schema")
    task = web.get_task(api)
    assert task.column == "ready" and task.blocked_by == ()


def test_failed_blocker_still_blocks(web: Deck) -> None:
    schema = task_in(web, "failed", "Design the schema")
    api = web.add_task("Write the API", actor="ann", blocked_by=[schema]).key
    assert web.get_task(api).column == "blocked"


def test_add_dependency_event_and_effect(web: Deck) -> None:
    a = web.add_task("A", actor="ann").key
    b = web.add_task("B", actor="ann").key
    cursor = web.max_event_id()
    task = web.add_dependency(b, a, actor="sup")
    assert task.blocked_by == (a,) and task.column == "blocked"
    [event] = events_after(web, cursor)
    assert (event.kind, event.actor, event.task, event.data) == (
        "dependency",
        "sup",
        b,
        {"blocked_by": a},
    )


def test_dependency_on_a_done_task_does_not_block(web: Deck) -> None:
    done = task_in(web, "done", "Done already")
    later = web.add_task("Later", actor="ann").key
    assert web.add_dependency(later, done, actor="ann").column == "ready"


def test_self_dependency_refused(web: Deck, refused: Refused) -> None:
    a = web.add_task("A", actor="ann").key
    with refused(CycleError, "WEB-1 cannot wait on itself"):
        web.add_dependency(a, a, actor="ann")


def test_direct_cycle_refused(web: Deck, refused: Refused) -> None:
    a = web.add_task("A", actor="ann").key
    b = web.add_task("B", actor="ann", blocked_by=[a]).key
    with refused(CycleError, f"{a} cannot wait on {b}", "already waits on it"):
        web.add_dependency(a, b, actor="ann")


def test_indirect_cycle_refused(web: Deck, refused: Refused) -> None:
    a = web.add_task("A", actor="ann").key
    b = web.add_task("B", actor="ann", blocked_by=[a]).key
    c = web.add_task("C", actor="ann", blocked_by=[b]).key
    with refused(CycleError, f"{a} cannot wait on {c}"):
        web.add_dependency(a, c, actor="ann")


def test_dependency_refusals(web: Deck, refused: Refused) -> None:
    a = web.add_task("A", actor="ann").key
    web.create_board("API", "API", actor="ann")
    other = web.add_task("Elsewhere", actor="ann", board="API").key
    with refused(ValidationError, f"{other} is on board API"):
        web.add_dependency(a, other, actor="ann")
    with refused(NotFoundError, "WEB-42"):
        web.add_dependency(a, "WEB-42", actor="ann")
    with refused(NotFoundError, "WEB-42"):
        web.add_dependency("WEB-42", a, actor="ann")
    with refused(NotFoundError, "mallory"):
        web.add_dependency(a, a, actor="mallory")


def test_repeated_dependency_counts_once(web: Deck) -> None:
    a = web.add_task("A", actor="ann").key
    b = web.add_task("B", actor="ann", blocked_by=[a]).key
    web.add_dependency(b, a, actor="ann")
    claim_key(web, a)
    web.complete(a, actor="gen", verified_by="pytest")
    assert web.get_task(b).column == "ready"


# -- plan ------------------------------------------------------------------------------------


def test_plan_creates_tasks_with_local_refs(web: Deck) -> None:
    existing = web.add_task("Pick a framework", actor="ann").key
    cursor = web.max_event_id()
    tasks = web.plan(
        [
            {"ref": "epic", "title": "Login", "priority": 1},
            {"ref": "schema", "title": "Schema", "parent": "epic", "skills": ["python"]},
            {"ref": "api", "title": "API", "parent": "epic", "blocked_by": ["schema", existing]},
            {"title": "UI", "blocked_by": ["api"], "assignee": "fe", "requires_approval": True},
        ],
        actor="sup",
    )
    assert [t.key for t in tasks] == ["WEB-2", "WEB-3", "WEB-4", "WEB-5"]
    epic, schema, api, ui = tasks
    assert schema.parent == epic.key and api.parent == epic.key
    assert schema.required_skills == ("python",)
    assert set(api.blocked_by) == {schema.key, existing} and api.column == "blocked"
    assert ui.blocked_by == (api.key,) and ui.assignee == "fe" and ui.requires_approval
    assert web.task_detail(epic.key).subtasks == (schema.key, api.key)
    events = events_after(web, cursor)
    assert [e.kind for e in events].count("created") == 4
    assert events[-1].kind == "plan" and events[-1].data == {"count": 4}
    assert all(e.actor == "sup" for e in events)


@pytest.mark.parametrize(
    ("plan", "error", "fragment"),
    [
        ([], ValidationError, "at least one task"),
        ([{"title": "A", "blocked_by": ["nowhere"]}], ValidationError, "unknown ref 'nowhere'"),
        ([{"title": "A", "blocked_by": ["WEB-99"]}], NotFoundError, "WEB-99"),
        ([{"ref": "a", "title": "A"}, {"ref": "a", "title": "B"}], ValidationError, "used twice"),
        ([{"title": "A", "colour": "red"}], ValidationError, "unknown field 'colour'"),
        ([{"description": "no title"}], ValidationError, "needs a title"),
        ([{"title": "A", "priority": "high"}], ValidationError, "priority"),
        ([{"title": "A", "blocked_by": "b"}], ValidationError, "blocked_by must be a list"),
        ([{"title": "A", "assignee": "nobody"}], NotFoundError, "nobody"),
        (
            [
                {"ref": "a", "title": "A", "blocked_by": ["b"]},
                {"ref": "b", "title": "B", "blocked_by": ["a"]},
            ],
            CycleError,
            "cannot wait on",
        ),
        ("not a list", ValidationError, "a list of tasks"),
    ],
)
def test_plan_is_all_or_nothing(
    web: Deck, refused: Refused, plan: Any, error: type[DeckError], fragment: str
) -> None:
    web.add_task("Already here", actor="ann")
    with refused(error, fragment):
        web.plan(plan, actor="sup")
    assert web.add_task("Next", actor="ann").key == "WEB-2"

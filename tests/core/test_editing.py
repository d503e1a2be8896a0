"""Editing tasks, labels and types: who may change what, versions, cycles, finished tasks,
one event per edit, label syntax and filters, and plans with labels, types and criteria lists.

Each refusal is checked with `refused`: the one-line error, and a database left exactly as
it was (no event, no version bump, no label or dependency row)."""

from __future__ import annotations

import pytest

from agentdeck.core import (
    ConflictError,
    CycleError,
    Deck,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from agentdeck.core.limits import MAX_TEXT, TRUNCATION_MARKER
from tests.core.helpers import Refused, claim_key, events_after, task_in


def version(deck: Deck, key: str) -> int:
    return deck.get_task(key).version


# -- who may edit what ----------------------------------------------------------------------


@pytest.mark.parametrize("editor", ["be", "sup", "ann", "bob"])
def test_the_creator_the_lead_and_humans_edit_anything(web: Deck, editor: str) -> None:
    blocker = web.add_task("Design the schema", actor="ann").key
    key = web.add_task("Build the API", actor="be", criteria="Tests pass", labels=["api"]).key
    edited = web.edit_task(
        key,
        actor=editor,
        expected_version=1,
        title="Build the orders API",
        description="REST, JSON",
        criteria="Every endpoint has a test",
        skills=["Backend"],
        estimate_hours=3,
        priority=0,
        add_dependencies=[blocker],
        add_labels=["Orders"],
        remove_labels=["api"],
        type="feature",
    )
    t = edited.task
    assert edited.changed == (
        "title",
        "description",
        "criteria",
        "skills",
        "estimate_hours",
        "priority",
        "dependencies",
        "labels",
        "type",
    )
    assert (t.title, t.description, t.criteria) == (
        "Build the orders API",
        "REST, JSON",
        "Every endpoint has a test",
    )
    assert (t.required_skills, t.estimate_hours, t.priority) == (("backend",), 3, 0)
    assert (t.blocked_by, t.column, t.labels, t.type) == (
        (blocker,),
        "blocked",
        ("orders",),
        "feature",
    )
    assert t.version == 2


def test_another_agent_is_refused_naming_the_rule(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build the API", actor="be").key
    for attempt in (
        {"title": "Mine now"},
        {"add_labels": ["x"]},
        {"add_dependencies": [web.add_task("Other", actor="ann").key]},
        {"criteria_note": "also this"},
    ):
        with refused(PermissionDeniedError, "fe cannot edit WEB-", "only its creator (be)"):
            web.edit_task(key, actor="fe", expected_version=1, **attempt)


def test_the_holder_adds_dependencies_and_criteria_notes_only(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build the form", actor="ann", criteria="- [ ] validates e-mail").key
    found = web.add_task("Fix the date picker", actor="ann").key
    claim_key(web, key, "gen")
    v = version(web, key)
    for attempt, words in (
        ({"criteria": "- [ ] it compiles"}, "the criteria of"),
        ({"title": "Easier task"}, "the title of"),
        ({"criteria": "", "criteria_note": "x"}, "the criteria of"),
        ({"remove_dependencies": [found]}, "the remove dependencies of"),
        ({"add_labels": ["easy"]}, "the labels of"),
        ({"priority": 4}, "the priority of"),
    ):
        with refused(PermissionDeniedError, f"gen cannot change {words} {key}", "its assignee"):
            web.edit_task(key, actor="gen", expected_version=v, **attempt)
    edited = web.edit_task(
        key,
        actor="gen",
        expected_version=v,
        add_dependencies=[found],
        criteria_note="the picker\nmust work first",
    )
    assert edited.changed == ("criteria", "dependencies")
    assert edited.task.criteria == (
        "- [ ] validates e-mail\n- Note from gen: the picker must work first"
    )
    assert edited.task.blocked_by == (found,) and edited.task.status == "in_progress"


def test_an_agent_acting_as_the_creator_without_its_credential_is_refused(
    deck: Deck, refused: Refused
) -> None:
    """On a token board, a deck holding only `fe`'s token cannot edit as the creator `be`."""
    from tests.conftest import make_web_board

    make_web_board(deck)
    key = deck.add_task("Build the API", actor="be").key
    token = deck.issued_token("fe", "WEB")
    assert token is not None
    with Deck.open(deck.url) as other:
        other.present(token)
        with refused(PermissionDeniedError, "fe's"):
            other.edit_task(key, actor="be", expected_version=1, title="Hijacked")


# -- versions ------------------------------------------------------------------------------------


def test_a_forged_or_stale_version_is_a_conflict(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build the API", actor="ann").key
    for forged in (0, 2, 99, -1):
        with refused(ConflictError, f"{key} changed since you saw it", "you had"):
            web.edit_task(key, actor="ann", expected_version=forged, title="New")
    with refused(ValidationError, "version"):
        web.edit_task(key, actor="ann", expected_version=None, title="New")  # type: ignore[arg-type]
    with refused(ValidationError, "version"):
        web.edit_task(key, actor="ann", expected_version=True, title="New")


def test_a_humans_edit_conflicts_with_an_agents_move(web: Deck, refused: Refused) -> None:
    """The human read the task, then an agent claimed it: the edit on what the human saw is
    refused; the human reloads and edits. An edit first does not stop the claim, but the
    version it saw is then the old one."""
    key = web.add_task("Build the API", actor="ann").key
    seen = version(web, key)
    claim_key(web, key, "gen")
    with refused(ConflictError, "now version 2", "in progress"):
        web.edit_task(key, actor="bob", expected_version=seen, priority=0)
    edited = web.edit_task(key, actor="bob", expected_version=version(web, key), priority=0)
    assert edited.task.version == 3 and edited.task.assignee == "gen"

    other = web.add_task("Write docs", actor="ann").key
    seen = version(web, other)
    web.edit_task(other, actor="bob", expected_version=seen, add_labels=["docs"])
    claim_key(web, other, "gen")
    with refused(ConflictError, "now version 3"):
        web.edit_task(other, actor="bob", expected_version=seen + 1, priority=0)


# -- what an edit writes ----------------------------------------------------------------------


def test_one_event_with_before_and_after_of_each_changed_field(web: Deck) -> None:
    blocker = web.add_task("Design", actor="ann").key
    key = web.add_task("Build", actor="ann", labels=["b"], estimate_hours=2).key
    cursor = web.max_event_id()
    web.edit_task(
        key,
        actor="bob",
        expected_version=1,
        title="Build it",
        priority=2,  # unchanged: not in the event
        estimate_hours=None,
        add_dependencies=[blocker],
        add_labels=["a"],
    )
    [event] = events_after(web, cursor)
    assert (event.kind, event.actor, event.task) == ("edited", "bob", key)
    assert event.text == "title, estimate_hours, dependencies, labels"
    assert event.data == {
        "fields": ["title", "estimate_hours", "dependencies", "labels"],
        "before": {"title": "Build", "estimate_hours": 2, "dependencies": [], "labels": ["b"]},
        "after": {
            "title": "Build it",
            "estimate_hours": None,
            "dependencies": [blocker],
            "labels": ["a", "b"],
        },
    }


def test_an_edit_that_changes_nothing_says_so_and_writes_nothing(
    web: Deck, refused: Refused
) -> None:
    blocker = web.add_task("Design", actor="ann").key
    key = web.add_task("Build", actor="ann", labels=["ui"], blocked_by=[blocker]).key
    cursor = web.max_event_id()
    same = web.edit_task(
        key,
        actor="ann",
        expected_version=1,
        title="  Build ",
        add_labels=["UI"],
        add_dependencies=[blocker],
        remove_labels=["absent"],
        priority=2,
        type="task",
    )
    assert same.changed == () and same.task.version == 1
    assert web.max_event_id() == cursor
    with refused(ValidationError, "nothing to change"):
        web.edit_task(key, actor="ann", expected_version=1)


def test_removing_a_dependency_makes_the_task_ready(web: Deck) -> None:
    blocker = web.add_task("Design", actor="ann").key
    key = web.add_task("Build", actor="ann", blocked_by=[blocker]).key
    assert web.get_task(key).column == "blocked"
    edited = web.edit_task(key, actor="ann", expected_version=1, remove_dependencies=[blocker])
    assert edited.task.column == "ready" and [t.key for t in web.ready()] == [blocker, key]
    web.edit_task(key, actor="ann", expected_version=2, add_dependencies=[blocker])
    assert web.get_task(key).column == "blocked"


def test_hostile_text_stays_literal_within_the_limits(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build", actor="ann").key
    hostile = "\x1b[2J<script>alert(1)</script> $(rm -rf ~) \u202eevil"
    edited = web.edit_task(
        key,
        actor="ann",
        expected_version=1,
        title=hostile,
        description="x" * (MAX_TEXT + 10),
        criteria="\x00 nul",
    )
    assert edited.task.title == hostile
    assert edited.task.description.endswith(TRUNCATION_MARKER.format(dropped=10))
    assert edited.task.criteria == "\ufffd nul"
    with refused(ValidationError, "at most 300"):
        web.edit_task(key, actor="ann", expected_version=2, title="t" * 301)
    with refused(ValidationError, "cannot be empty"):
        web.edit_task(key, actor="ann", expected_version=2, title=" \n ")
    with refused(ValidationError, "priority"):
        web.edit_task(key, actor="ann", expected_version=2, priority=9)
    with refused(ValidationError, "estimate_hours"):
        web.edit_task(key, actor="ann", expected_version=2, estimate_hours=float("nan"))
    with refused(ValidationError, "type must be one of task, bug, feature, epic, chore"):
        web.edit_task(key, actor="ann", expected_version=2, type="story")
    with refused(ValidationError, "a criteria note cannot be empty"):
        web.edit_task(key, actor="ann", expected_version=2, criteria_note=" \n")


# -- cycles ----------------------------------------------------------------------------------


def test_a_cycle_through_add_dependency_is_refused(web: Deck, refused: Refused) -> None:
    a = web.add_task("A", actor="ann").key
    b = web.add_task("B", actor="ann", blocked_by=[a]).key
    c = web.add_task("C", actor="ann", blocked_by=[b]).key
    with refused(CycleError, f"{a} cannot wait on {c}"):
        web.edit_task(a, actor="ann", expected_version=1, add_dependencies=[c])
    with refused(CycleError, "cannot wait on itself"):
        web.edit_task(a, actor="ann", expected_version=1, add_dependencies=[a])
    with refused(ValidationError, "both added and removed"):
        web.edit_task(
            a,
            actor="ann",
            expected_version=1,
            add_dependencies=[b],
            remove_dependencies=[b.lower()],
        )
    web.create_board("OPS", "Operations", actor="ann")
    ops = web.add_task("Elsewhere", actor="ann", board="OPS").key
    with refused(ValidationError, "dependencies stay within WEB"):
        web.edit_task(a, actor="ann", expected_version=1, add_dependencies=[ops])
    with refused(NotFoundError, "no task WEB-99"):
        web.edit_task(a, actor="ann", expected_version=1, add_dependencies=["WEB-99"])


def test_a_parent_loop_is_refused(web: Deck, refused: Refused) -> None:
    epic = web.add_task("Epic", actor="ann", type="epic").key
    child = web.add_task("Child", actor="ann", parent=epic).key
    grandchild = web.add_task("Grandchild", actor="ann", parent=child).key
    with refused(CycleError, f"already under {epic}"):
        web.edit_task(epic, actor="ann", expected_version=1, parent=grandchild)
    with refused(CycleError, "not its own parent"):
        web.edit_task(epic, actor="ann", expected_version=1, parent=epic)
    moved = web.edit_task(grandchild, actor="ann", expected_version=1, parent=epic)
    assert moved.task.parent == epic and moved.changed == ("parent",)
    cleared = web.edit_task(grandchild, actor="ann", expected_version=2, parent=None)
    assert cleared.task.parent is None


# -- finished tasks ------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_a_finished_tasks_history_stays_only_labels_change(
    web: Deck, refused: Refused, status: str
) -> None:
    key = task_in(web, status)
    v = version(web, key)
    other = web.add_task("Later", actor="ann").key
    for attempt in (
        {"title": "Rewritten"},
        {"criteria": "Easier"},
        {"add_dependencies": [other]},
        {"type": "bug", "add_labels": ["x"]},
    ):
        with refused(InvalidTransitionError, f"it is {status}", "only its labels may change"):
            web.edit_task(key, actor="ann", expected_version=v, **attempt)
    edited = web.edit_task(key, actor="ann", expected_version=v, add_labels=["shipped"])
    assert edited.task.labels == ("shipped",) and edited.task.status == status


def test_a_failed_task_may_still_be_edited(web: Deck) -> None:
    key = task_in(web, "failed")
    edited = web.edit_task(key, actor="ann", expected_version=version(web, key), title="Smaller")
    assert edited.task.title == "Smaller"


# -- labels and types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "has space",
        "a,b",
        "",
        "-lead",
        "x" * 41,
        "zero\u200bwidth",
        "tab\there",
        "nl\n2",
        "\x1b[31m",
    ],
)
def test_label_syntax(web: Deck, refused: Refused, bad: str) -> None:
    with refused(ValidationError, "label"):
        web.add_task("Tagged", actor="ann", labels=[bad])


def test_labels_are_case_folded_and_filter_ready_lists_counts(web: Deck) -> None:
    ui = web.add_task("Form", actor="ann", labels=["UI", "\uff37\uff25\uff22"]).key
    api = web.add_task("API", actor="ann", labels=["api"], skills=["backend"]).key
    blocked = web.add_task("Page", actor="ann", labels=["ui"], blocked_by=[api]).key
    assert web.get_task(ui).labels == ("ui", "web")
    assert [t.key for t in web.ready(label="Ui")] == [ui]
    assert [t.key for t in web.ready(agent="be", label="api")] == [api]
    assert [t.key for t in web.ready(agent="fe", label="api")] == []
    assert [t.key for t in web.list_tasks(label="UI")] == [ui, blocked]
    assert [t.key for t in web.list_tasks(label="ui", column="blocked")] == [blocked]
    assert web.list_tasks(label="nothing") == []
    assert web.counts(label="ui").by_column == {"ready": 1, "blocked": 1}
    with pytest.raises(ValidationError, match="label"):
        web.ready(label="two words")


def test_the_report_shows_labels_and_filters_by_one(web: Deck) -> None:
    web.add_task("Form", actor="ann", labels=["ui"], type="bug")
    web.add_task("API", actor="ann", labels=["api"])
    everything = web.report()
    assert "**WEB-1** (bug) Form [ui]" in everything and "**WEB-2** API [api]" in everything
    only = web.report(label="UI")
    assert "WEB-1" in only and "WEB-2" not in only and "**Label:** ui" in only
    assert "1 of 1" not in only and "0 of 1 task done" in only
    summary = web.report_summary(label="ui")
    assert summary["total"] == 1 and summary["label"] == "ui"
    assert web.report_summary()["total"] == 2 and "label" not in web.report_summary()


def test_types_default_and_refusal(web: Deck, refused: Refused) -> None:
    assert web.add_task("Plain", actor="ann").type == "task"
    assert web.add_task("Broken", actor="ann", type="Bug").type == "bug"
    with refused(ValidationError, "type must be one of"):
        web.add_task("Story", actor="ann", type="story")


def test_too_many_labels_are_refused(web: Deck, refused: Refused) -> None:
    key = web.add_task("Tagged", actor="ann", labels=[f"l{i}" for i in range(32)]).key
    with refused(ValidationError, "at most 32 labels"):
        web.edit_task(key, actor="ann", expected_version=1, add_labels=["one-more"])


# -- plans -----------------------------------------------------------------------------------


def test_a_plan_takes_labels_types_and_criteria_lists(web: Deck) -> None:
    created = web.plan(
        [
            {"ref": "e", "title": "Checkout", "type": "epic", "labels": ["Shop"]},
            {
                "title": "Pay",
                "parent": "e",
                "type": "feature",
                "labels": ["shop", "payments"],
                "criteria": ["Card payments work", "  refunds\nwork  ", ""],
            },
        ],
        actor="sup",
    )
    epic, pay = created
    assert (epic.type, epic.labels) == ("epic", ("shop",))
    assert (pay.type, pay.labels, pay.parent) == ("feature", ("payments", "shop"), epic.key)
    assert pay.criteria == "- [ ] Card payments work\n- [ ] refunds work"


@pytest.mark.parametrize(
    ("task", "words"),
    [
        ({"title": "T", "criteria": ["ok", 3]}, "plan task 1: criteria items must be text"),
        ({"title": "T", "criteria": {"a": 1}}, "criteria must be text or a list of items"),
        ({"title": "T", "labels": "ui"}, "labels must be a list of strings"),
        ({"title": "T", "labels": ["two words"]}, "plan task 1: label 'two words'"),
        ({"title": "T", "type": "story"}, "plan task 1: type must be one of"),
        ({"title": "T", "type": 3}, "type must be text"),
    ],
)
def test_a_plan_refuses_bad_labels_types_and_criteria(
    web: Deck, refused: Refused, task: dict[str, object], words: str
) -> None:
    with refused(ValidationError, words):
        web.plan([task], actor="sup")

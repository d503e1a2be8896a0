"""Epics: a task with unfinished subtasks is Blocked, out of the ready queue and not claimable;
it shows their progress, completes (or goes to review) when the last finishes, and goes back to
pending when one is reopened. Every case runs on SQLite and PostgreSQL."""

from __future__ import annotations

from agentdeck.core import CycleError, Deck, InvalidTransitionError, ValidationError
from agentdeck.core.lifecycle import SYSTEM_ACTOR
from agentdeck.core.models import Task
from tests.core.helpers import Refused, claim_key, events_after, task_in


def epic_of(deck: Deck, n: int, **fields: object) -> tuple[str, list[str]]:
    """A new epic on WEB with `n` subtasks, all pending."""
    epic = deck.add_task("Checkout", actor="ann", **fields).key  # type: ignore[arg-type]
    children = [deck.add_task(f"Part {i}", actor="ann", parent=epic).key for i in range(n)]
    return epic, children


def finish(deck: Deck, key: str, agent: str = "gen") -> None:
    claim_key(deck, key, agent)
    deck.complete(key, actor=agent, result="shipped", verified_by="pytest")


def progress(t: Task) -> tuple[int, int]:
    return t.subtasks_done, t.subtasks_total


def test_an_epic_with_open_subtasks_is_blocked_not_ready_and_not_claimable(
    web: Deck, refused: Refused
) -> None:
    plain = web.add_task("Plain", actor="ann", priority=4).key
    epic, children = epic_of(web, 3, priority=0)  # the most urgent task on the board
    t = web.get_task(epic)
    assert (t.status, t.column, progress(t)) == ("pending", "blocked", (0, 3))
    assert t.blocked_by == ()  # it waits on its subtasks, not on blockers
    assert epic not in [r.key for r in web.ready()]
    assert epic not in [r.key for r in web.ready(agent="gen")]
    assert epic not in [r.key for r in web.list_tasks(column="ready")]
    assert [r.key for r in web.list_tasks(column="blocked")] == [epic]
    assert web.counts().by_column == {"blocked": 1, "ready": 4}
    with refused(InvalidTransitionError, f"cannot claim {epic}", "epic", "3 unfinished", "0/3"):
        web.claim("gen", key=epic)
    # Claim-next takes its subtasks and the plain task, never the epic (done by then).
    taken = []
    while (claim := web.claim("gen")) is not None:
        taken.append(claim.task.key)
        web.complete(claim.task.key, actor="gen", result="ok", verified_by="pytest")
    assert taken == [*children, plain]
    assert web.get_task(epic).status == "done"


def test_the_last_subtask_done_completes_the_epic_as_the_system(web: Deck) -> None:
    epic, (a, b, c) = epic_of(web, 3)
    finish(web, a)
    finish(web, b)
    t = web.get_task(epic)
    assert (t.status, t.column, progress(t)) == ("pending", "blocked", (2, 3))
    cursor = web.max_event_id()
    finish(web, c)
    t = web.get_task(epic)
    assert (t.status, progress(t)) == ("done", (3, 3))
    assert t.completed_at is not None
    closing = [e for e in events_after(web, cursor) if e.task == epic]
    assert len(closing) == 1
    e = closing[0]
    assert (e.actor, e.kind, e.subkind, e.auth) == (SYSTEM_ACTOR, "status", "done", "")
    assert e.data == {"from": "pending", "to": "done", "verb": "epic_done", "because": c}
    assert c in e.text
    # A finished epic is searchable past work like any done task.
    assert epic in [h.key for h in web.search("Checkout")]


def test_an_epic_that_requires_approval_goes_to_review_then_a_human_approves(
    web: Deck,
) -> None:
    epic, (a,) = epic_of(web, 1, requires_approval=True)
    finish(web, a)
    t = web.get_task(epic)
    assert (t.status, t.column) == ("review", "needs_human")
    assert web.task_events(epic)[-1].data["verb"] == "epic_review"
    assert web.approve(epic, actor="ann").status == "done"


def test_cancelled_subtasks_count_as_finished_but_not_as_progress(web: Deck) -> None:
    epic, (a, b, c) = epic_of(web, 3)
    web.cancel(a, actor="ann", reason="out of scope")
    assert progress(web.get_task(epic)) == (0, 2)
    finish(web, b)
    finish(web, c)
    t = web.get_task(epic)
    assert (t.status, progress(t)) == ("done", (2, 2))


def test_an_epic_whose_subtasks_are_all_cancelled_becomes_an_ordinary_ready_task(
    web: Deck,
) -> None:
    epic, (a, b) = epic_of(web, 2)
    web.cancel(a, actor="ann", reason="dropped")
    web.cancel(b, actor="ann", reason="dropped")
    t = web.get_task(epic)
    assert (t.status, t.column, progress(t)) == ("pending", "ready", (0, 0))
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == epic


def test_a_failed_subtask_keeps_the_epic_waiting(web: Deck) -> None:
    epic, (a, b) = epic_of(web, 2)
    finish(web, a)
    claim_key(web, b)
    web.fail(b, actor="gen", reason="the API is down")
    assert web.get_task(epic).status == "pending"
    assert web.get_task(epic).column == "blocked"
    web.reopen(b, actor="ann", notes="try again")
    finish(web, b)
    assert web.get_task(epic).status == "done"


def test_reopening_a_subtask_of_a_done_epic_reopens_the_epic(web: Deck) -> None:
    epic, (a, b) = epic_of(web, 2)
    finish(web, a)
    finish(web, b)
    assert web.get_task(epic).status == "done"
    web.reopen(a, actor="ann", notes="the form lost its labels")
    t = web.get_task(epic)
    assert (t.status, t.column, progress(t)) == ("pending", "blocked", (1, 2))
    reopened = web.task_events(epic)[-1]
    assert (reopened.actor, reopened.kind, reopened.data["verb"]) == (
        SYSTEM_ACTOR,
        "reopened",
        "epic_reopen",
    )
    assert epic not in [h.key for h in web.search("Checkout")]  # not past work any more
    finish(web, a)
    assert web.get_task(epic).status == "done"


def test_reopening_a_subtask_sends_an_epic_in_review_back(web: Deck) -> None:
    epic, (a,) = epic_of(web, 1, requires_approval=True)
    finish(web, a)
    assert web.get_task(epic).status == "review"
    web.reopen(a, actor="ann", notes="not yet")
    assert web.get_task(epic).status == "pending"


def test_a_held_or_cancelled_epic_is_left_alone_when_its_subtasks_finish(web: Deck) -> None:
    held = web.add_task("Held first", actor="ann").key
    claim_key(web, held)
    part = web.add_task("Found while working", actor="ann", parent=held).key
    finish(web, part, agent="be")
    assert web.get_task(held).status == "in_progress"  # its holder finishes it
    cancelled, (c,) = epic_of(web, 1)
    web.cancel(cancelled, actor="ann", reason="dropped")
    finish(web, c)
    assert web.get_task(cancelled).status == "cancelled"


def test_nested_epics_complete_bottom_up_and_reopen_top_down(web: Deck) -> None:
    top = web.add_task("Launch", actor="ann").key
    mid = web.add_task("Checkout", actor="ann", parent=top).key
    leaf = web.add_task("Card form", actor="ann", parent=mid).key
    assert [t.key for t in web.ready()] == [leaf]
    finish(web, leaf)
    assert (web.get_task(mid).status, web.get_task(top).status) == ("done", "done")
    web.reopen(leaf, actor="ann", notes="again")
    assert (web.get_task(mid).status, web.get_task(top).status) == ("pending", "pending")
    assert [t.key for t in web.ready()] == [leaf]


def test_an_epic_also_waits_on_its_own_blockers(web: Deck) -> None:
    first = web.add_task("Design", actor="ann").key
    epic = web.add_task("Build", actor="ann", blocked_by=[first]).key
    part = web.add_task("Part", actor="ann", parent=epic).key
    finish(web, part)
    t = web.get_task(epic)
    assert (t.status, t.column, t.blocked_by) == ("pending", "blocked", (first,))
    finish(web, first)  # the last thing it waited on
    assert web.get_task(epic).status == "done"


def test_a_new_subtask_blocks_a_ready_task_and_a_finished_one_takes_none(
    web: Deck, refused: Refused
) -> None:
    epic = web.add_task("Was plain", actor="ann").key
    assert web.get_task(epic).column == "ready"
    web.add_task("Now a part", actor="ann", parent=epic)
    assert web.get_task(epic).column == "blocked"
    done = task_in(web, "done", "Shipped")
    with refused(ValidationError, f"{done} is done", "no new subtasks"):
        web.add_task("Late part", actor="ann", parent=done)


def test_a_plan_makes_epics_and_refuses_a_parent_cycle(web: Deck, refused: Refused) -> None:
    made = web.plan(
        [
            {"ref": "e", "title": "Epic"},
            {"ref": "a", "title": "A", "parent": "e"},
            {"ref": "b", "title": "B", "parent": "e", "blocked_by": ["a"]},
        ],
        actor="ann",
    )
    epic = web.get_task(made[0].key)
    assert (epic.column, progress(epic)) == ("blocked", (0, 2))
    assert [t.key for t in web.ready()] == [made[1].key]
    with refused(CycleError, "cannot be a subtask"):
        web.plan(
            [
                {"ref": "x", "title": "X", "parent": "y"},
                {"ref": "y", "title": "Y", "parent": "x"},
            ],
            actor="ann",
        )


def test_export_and_import_keep_an_epic_waiting(web: Deck) -> None:
    epic, (a, b) = epic_of(web, 2)
    finish(web, a)
    document = web.export_board("WEB")
    copy = web.import_board(document, actor="ann", key="WEB2")
    t = web.get_task(f"{copy.key}-{epic.split('-')[1]}")
    assert (t.status, t.column, progress(t)) == ("pending", "blocked", (1, 2))
    assert [r.key for r in web.ready(copy.key)] == [f"{copy.key}-{b.split('-')[1]}"]


def test_changes_since_carries_the_epic_of_a_subtask_that_changed(web: Deck) -> None:
    """The console follows `changes_since`: a new subtask moves its epic to Blocked and a done
    one changes its progress, though neither writes an event on the epic."""
    epic = web.add_task("Was plain", actor="ann").key
    cursor = web.max_event_id()
    part = web.add_task("Part", actor="ann", parent=epic).key
    changed = {t.key: t for t in web.changes_since(cursor).tasks}
    assert (changed[epic].column, progress(changed[epic])) == ("blocked", (0, 1))
    other = web.add_task("Second part", actor="ann", parent=epic).key
    claim_key(web, part)
    cursor = web.max_event_id()
    web.complete(part, actor="gen", result="ok", verified_by="pytest")
    changed = {t.key: t for t in web.changes_since(cursor).tasks}
    assert progress(changed[epic]) == (1, 2) and other not in changed

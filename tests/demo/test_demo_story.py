"""A seeded headless demo tells one coherent story per task: every text the team writes about
a task (log lines, doing lines, results, escalations, answers, review notes, failures,
reopen notes, commit messages) comes from that task's own entry in the story or from the
deliberately generic lines, and the lead never plans a task twice, not even when it plans
again on a board that already holds its plan."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.core.models import Event
from agentdeck.tui.demo.run import prepare
from agentdeck.tui.demo.stories import (
    ANY_ANSWER,
    BUDGET_ANSWER,
    GENERIC_REOPEN,
    Story,
    Texts,
    fill,
    story,
)
from agentdeck.tui.demo.summary import events_after
from agentdeck.tui.demo.supervisor import WAITING, Supervisor, SupervisorHabits
from agentdeck.tui.demo.team import rng_for
from agentdeck.tui.demo.worker import lead_message
from tests.demo.helpers import DemoRun


def allowed(s: Story, key: str, title: str, texts: Texts) -> set[str]:
    """Every exact text the team may write about task `key`."""
    generic_doing = {d for c in s.crafts.values() for d in c.doing}
    tools = {f"$ {c}\n{o}" for c, o in texts.tool_calls}
    tools |= {f"$ {t}" for k, t in (*texts.log, *texts.first) if k == "tool_call"}
    notes = {texts.redo, texts.reply, texts.reopen, GENERIC_REOPEN, BUDGET_ANSWER, ANY_ANSWER}
    notes.add(f"{key} is assigned to you")  # core's note to a new assignee
    notes.add(lead_message(key, texts.ask))  # a worker telling the lead it escalated
    return (
        texts.own()
        | tools
        | generic_doing
        | set(s.approvals)
        | notes
        | {f"{key}: {note}" for note in notes}  # the inbox message carrying a note
        | {fill(c, key=key) for c in texts.commits}
        | {
            f"Picked up {key}: {title}",
            f"Reading {key} and its success criteria",
            f"Resuming {key} after a restart; re-reading my notes",
            "Verifying against the success criteria",
            s.cancel_reason,
        }
    )


# Events whose text core writes itself (a name, a number, a lease), never the story.
# An edit's text is the names of the fields it changed; its data holds the values (checked
# apart, in `edited_values`).
CORE_WORDED = ("usage", "priority", "budget", "created", "assigned", "lease_expired", "edited")
FRAMEWORK = (
    re.compile(r"Acting on (rejection|reopen|answer|assignment) from \w+: (?P<note>.*)", re.S),
    re.compile(r"Committed [0-9a-f]{7}: (?P<note>.*)"),
    re.compile(r"Similar past work: \w+-\d+ \(.*\); reusing its approach"),
)


def stray_texts(s: Story, deck: Deck, events: Sequence[Event]) -> list[tuple[str, str, str]]:
    """(task title, event kind, text) for every text written about a task that is not its own."""
    out = []
    for e in events:
        if not e.task or not e.text or e.kind in CORE_WORDED:
            continue
        task = deck.get_task(e.task)
        _, texts = s.texts_for(task.title, task.required_skills, task.criteria)
        mine = allowed(s, task.key, task.title, texts)
        if e.text in mine or e.text.startswith("budget: "):  # core's own budget-stop reason
            continue
        match = next((m for p in FRAMEWORK if (m := p.fullmatch(e.text))), None)
        note = match.groupdict().get("note") if match else None
        if match and (note is None or note in mine):
            continue
        out.append((task.title, e.kind, e.text))
    return out


def stray_edits(s: Story, deck: Deck, events: Sequence[Event]) -> list[tuple[str, str]]:
    """(task title, what) for every edit that changed more than the team's edits do: a criteria
    note must be the task's own note, a label the lead's `waiting-on-human`."""
    out = []
    for e in events:
        if e.kind != "edited":
            continue
        task = deck.get_task(e.task or "")
        _, texts = s.texts_for(task.title, task.required_skills, task.criteria)
        fields = e.data["fields"]
        if fields == ["criteria"]:
            added = e.data["after"]["criteria"].removeprefix(e.data["before"]["criteria"]).strip()
            if added != f"- Note from {e.actor}: {texts.note}" or not texts.note:
                out.append((task.title, added))
        elif fields == ["labels"]:
            changed = set(e.data["after"]["labels"]) ^ set(e.data["before"]["labels"])
            if changed != {WAITING} or e.actor != s.lead.name:
                out.append((task.title, f"labels {sorted(changed)} by {e.actor}"))
        else:
            out.append((task.title, f"fields {fields}"))
    return out


def out_of_order(s: Story, deck: Deck, events: Sequence[Event]) -> list[str]:
    """Tasks (of those `events` touch) whose own log lines, over the task's whole life, were
    not told once each in the story's order, whose question was asked twice (once answered,
    it is settled), or came after lines the story puts after it."""
    bad = []
    for key in sorted({e.task for e in events if e.task}):
        task = deck.get_task(key)
        _, texts = s.texts_for(task.title, task.required_skills, task.criteria)
        own = [f"$ {t}" if k == "tool_call" else t for k, t in texts.log]
        mine = sorted(deck.task_events(key, limit=5000), key=lambda e: e.id)  # its whole life
        told = [own.index(e.text) for e in mine if e.kind == "log" and e.text in own]
        if told != list(range(len(told))):
            bad.append(f"{key}: own lines told as {told}")
        questions = [e for e in mine if e.data.get("verb") == "escalate" and e.text == texts.ask]
        if len(questions) > 1:
            bad.append(f"{key}: asked its question {len(questions)} times")
        asked = next((i for i, e in enumerate(mine) if e.data.get("verb") == "escalate"), None)
        if asked is not None and texts.ask:
            before = [e.text for e in mine[:asked] if e.kind == "log" and e.text in own]
            if len(before) > texts.before_ask:
                bad.append(f"{key}: {len(before)} lines before the question")
    return bad


@pytest.mark.parametrize(("board", "seed", "turns"), [("website", 3, 160), ("database", 2, 150)])
def test_each_task_s_texts_come_from_its_own_entry(
    run_demo: Callable[..., DemoRun], board: str, seed: int, turns: int
) -> None:
    run = run_demo(board, seed=seed, turns=turns)
    assert run.code == 0, run.output
    s = story(board)
    with run.deck() as deck:
        events = list(events_after(deck, run.board_key, run.cursor))
        assert not stray_texts(s, deck, events)
        assert not stray_edits(s, deck, events)
        assert not out_of_order(s, deck, events)
        tasks = deck.list_tasks(run.board_key, include_cancelled=True)
        titles = [t.title for t in tasks]
        planned = {spec.title: spec for spec in s.specs()}
        filed = {t.title: (t.type, set(t.labels) - {WAITING}) for t in tasks}
        assert all(
            filed[title] == (planned[title].type, set(planned[title].labels))
            for title in filed
            if title in planned
        )
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)
    # A recording shows the tracker's other verbs: the lead files types and labels and labels
    # what waits on a human, workers add criteria notes, comment and message the lead, the
    # reviewing human comments on a review.
    edits = [e for e in events if e.kind == "edited"]
    assert any(e.data["fields"] == ["criteria"] for e in edits), "no criteria note"
    assert any(WAITING in e.data["after"].get("labels", ()) for e in edits), "no label"
    comments = {e.actor for e in events if e.kind == "comment"}
    assert s.reviewer.name in comments and comments - {s.reviewer.name}, comments
    told = [e for e in events if e.kind == "message" and e.data.get("to") == s.lead.name]
    assert told and all(e.text.startswith(f"{e.task} waits on a human: ") for e in told)
    assert any(t.labels and t.type != "task" for t in tasks if t.title in planned)
    # The run did tell stories: escalations with their own answers, results, review notes.
    verbs = {e.data.get("verb") for e in events if e.kind == "status"}
    assert {"escalate", "answer", "complete"} <= verbs, verbs
    assert sum(1 for e in events if e.kind == "log") > 50


@pytest.mark.parametrize("board", ["website", "database", "research"])
def test_the_sample_histories_tell_each_task_s_own_story(tmp_path: Path, board: str) -> None:
    """The weeks of history each sample board brings hold only each task's own texts too,
    and the checker is not vacuous: the old kind of mix-up (a question about the paid
    search plan written on the meta-tags task) is reported."""
    s = story(board)
    deck, _ = prepare(s, tmp_path / "demo.db", 1)
    with deck:
        events = deck.events_since(0, board=s.key, limit=100_000)
        assert not stray_texts(s, deck, events)
        assert not stray_edits(s, deck, events)
        assert not out_of_order(s, deck, events)
        titles = [t.title for t in deck.list_tasks(s.key, include_cancelled=True)]
        assert len(titles) == len(set(titles))
        if board == "website":
            meta = next(t for t in deck.list_tasks("WEB") if t.title.startswith("Meta tags"))
            logged = next(e for e in events if e.task == meta.key and e.kind == "log")
            search = s.texts(next(x for x in s.specs() if x.ref == "search"))
            forged = dataclasses.replace(logged, text=search.ask)
            assert stray_texts(s, deck, [logged, forged]) == [(meta.title, "log", search.ask)]


def test_the_lead_never_plans_a_task_twice(tmp_path: Path) -> None:
    """A lead that starts again on a board already holding its plan (a rerun, a restarted
    process) adds nothing twice; follow-ups use each (template, area) once and stop when every
    one is on the board."""
    s = story("database")
    deck, _ = prepare(s, tmp_path / "demo.db", 1)
    with deck:
        for attempt in range(2):
            lead = Supervisor(
                deck,
                s,
                rng_for(attempt, 0),
                SupervisorHabits(
                    batches=[s.demo_plan],
                    followups=True,
                    backlog_per_worker=1000.0,  # always hungry: it plans all it can
                    team=["eli"],
                    team_skills=[["devops", "etl", "planning"]],
                ),
            )
            turns = lead.run()
            for _ in range(60):  # nobody works, so the lead keeps finding the backlog thin
                next(turns)
        titles = [t.title for t in deck.list_tasks("DB", include_cancelled=True)]
    assert len(titles) == len(set(titles))
    planned = {spec.title for spec in s.demo_plan}
    followups = {fill(f.title, area=a) for f in s.followups for a in s.areas}
    assert planned <= set(titles) and followups <= set(titles)

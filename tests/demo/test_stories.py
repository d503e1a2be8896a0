"""Each sample story's texts belong to their task: everything the demo writes about a task
comes from that task's own entry (or from its skill's deliberately generic tool runs and
commit templates), so no escalation, note or result of one task appears on another."""

from __future__ import annotations

from collections import defaultdict

import pytest

from agentdeck.core import limits
from agentdeck.tui.demo.stories import Spec, Story, Texts, criteria_of, stories, with_tags

SLUGS = sorted(stories())


def generic(s: Story) -> set[str]:
    """The texts any task may share, by design: the skills' routine tool runs and doing lines
    and the humans' plain approvals."""
    out = set(s.approvals)
    for craft in s.crafts.values():
        out |= set(craft.doing) | {f"{c}\n{o}" for c, o in craft.tool_calls}
    return out


@pytest.mark.parametrize("slug", SLUGS)
def test_no_text_is_shared_between_two_tasks(slug: str) -> None:
    """A text written about a task is that task's alone: no two tasks (follow-ups in different
    areas included) share a text, and no task's own text is one of the generic ones."""
    s = stories()[slug]
    owners: dict[str, list[str]] = defaultdict(list)
    for spec in s.specs():
        for text in s.texts(spec).own():
            owners[text].append(spec.ref)
    shared = {text: refs for text, refs in owners.items() if len(refs) > 1}
    assert not shared, shared
    assert not set(owners) & generic(s)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_task_has_its_story(slug: str) -> None:
    """Titles are unique; each task's result and verification speak of what it promised (its
    own criteria when the story wrote none); an escalation always comes with the human's
    answer; follow-ups in each area name their area."""
    s = stories()[slug]
    specs = s.specs()
    titles = [spec.title for spec in specs]
    assert len(titles) == len(set(titles))
    for spec in specs:
        texts: Texts = s.texts(spec)
        assert texts.result and texts.check and texts.redo and texts.miss and texts.fail
        assert bool(texts.ask) == bool(texts.reply), spec.ref
        assert "{" not in "".join(texts.own()), (spec.ref, texts.own())
        if not spec.lines.result:
            assert all(c in texts.result for c in criteria_of(spec.criteria)), spec.ref
    for template in s.followups:
        for area in s.areas:
            spec = s.followup(template, area)
            assert area in spec.title and area in s.texts(spec).result, spec.ref
    # Enough tasks in the demo's plan carry a question for a human to show an escalation.
    assert sum(1 for spec in s.demo_plan if spec.lines.ask) >= 3


@pytest.mark.parametrize("slug", SLUGS)
def test_the_reported_mismatches_are_gone(slug: str) -> None:
    """The issue's examples: each of these texts now lives with the one task it is about."""
    s = stories()[slug]
    by_text = {text: spec.title for spec in s.specs() for text in s.texts(spec).own()}
    if slug == "website":
        meili = next(t for t in by_text if "Meilisearch Cloud" in t)
        assert by_text[meili] == "Site search with typo tolerance"
        stripe = next(t for t in by_text if "Payment Element" in t)
        assert by_text[stripe] == "Stripe Checkout integration with webhooks"
        split = next(t for t in by_text if "split the migration" in t)
        assert by_text[split] == "Cart service with Redis-backed sessions"
        inventory = next(t for t in by_text if "Exported the page inventory" in t)
        assert by_text[inventory].startswith("Audit the current site")


@pytest.mark.parametrize("slug", SLUGS)
def test_the_lead_files_types_and_labels_a_tracker_accepts(slug: str) -> None:
    """Every planned task's type and labels are ones `task edit` and plans accept; the demo's
    plan is filed (a type other than task somewhere, labels on each task) and some of its
    tasks have a criteria note for their holder to add, so a recording shows edits."""
    s = stories()[slug]
    for spec in s.specs():
        assert limits.task_type(spec.type) == spec.type, spec.ref
        assert limits.labels(list(spec.labels)) == sorted(spec.labels), spec.ref
    assert all(spec.labels for spec in s.demo_plan)
    assert any(spec.type != "task" for spec in s.demo_plan)
    assert sum(1 for spec in s.demo_plan if spec.lines.note) >= 3


def test_tags_for_a_task_no_plan_has_are_a_mistake() -> None:
    plan = (Spec("a", "A", ("x",)),)
    with pytest.raises(KeyError, match="tags for tasks no plan has: b"):
        with_tags({"b": ("bug", ())}, plan)
    ((tagged,),) = with_tags({"a": ("bug", ("ui",))}, plan)
    assert (tagged.type, tagged.labels, tagged.to_plan({})["labels"]) == ("bug", ("ui",), ["ui"])

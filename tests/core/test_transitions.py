"""The lifecycle table: every verb from every status either makes the designed move or is
refused with an error naming the task, its status and the allowed moves, writing nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agentdeck.core import Deck, InvalidTransitionError, LeaseExpiredError
from agentdeck.core.models import STATUSES
from tests.core.helpers import Refused, events_after, task_in

Verb = Callable[[Deck, str], object]

VERBS: dict[str, Verb] = {
    "claim": lambda d, k: d.claim("gen", key=k),
    "complete": lambda d, k: d.complete(k, actor="gen", result="ok", verified_by="pytest"),
    "submit": lambda d, k: d.submit(k, actor="gen", result="ok"),
    "fail": lambda d, k: d.fail(k, actor="gen", reason="broken"),
    "escalate": lambda d, k: d.escalate(k, actor="gen", reason="need a key"),
    "release": lambda d, k: d.release(k, actor="gen"),
    "approve": lambda d, k: d.approve(k, actor="ann"),
    "reject": lambda d, k: d.reject(k, actor="ann", notes="fix the tests"),
    "reopen": lambda d, k: d.reopen(k, actor="ann", notes="still broken"),
    "answer": lambda d, k: d.answer(k, actor="ann", text="use the staging key"),
    "cancel": lambda d, k: d.cancel(k, actor="ann", reason="dropped"),
    "assign": lambda d, k: d.assign(k, "be", actor="ann"),
    "set_priority": lambda d, k: d.set_priority(k, 0, actor="ann"),
}

# status -> {verb: status after}, straight from the design's lifecycle; all else is refused.
ALLOWED: dict[str, dict[str, str]] = {
    "pending": {
        "claim": "in_progress",
        "cancel": "cancelled",
        "assign": "pending",
        "set_priority": "pending",
    },
    "in_progress": {
        "complete": "done",
        "submit": "review",
        "fail": "failed",
        "escalate": "escalated",
        "release": "pending",
        "cancel": "cancelled",
        "assign": "pending",
        "set_priority": "in_progress",
    },
    "review": {
        "approve": "done",
        "reject": "pending",
        "cancel": "cancelled",
        "assign": "review",
        "set_priority": "review",
    },
    "escalated": {
        "answer": "pending",
        "cancel": "cancelled",
        "assign": "pending",
        "set_priority": "escalated",
    },
    "done": {"reopen": "pending"},
    "failed": {
        "reopen": "pending",
        "cancel": "cancelled",
        "assign": "failed",
        "set_priority": "failed",
    },
    "cancelled": {},
}
# How the allowed verbs are named in error messages (as the CLI spells them).
SHOWN = {"complete": "done", "set_priority": "priority"}
HOLDER_VERBS = {"complete", "submit", "fail", "escalate", "release"}

CASES = [(status, verb) for status in STATUSES for verb in VERBS]

# How a refusal says each status: in words, never the stored name ("it is review").
IT_IS = {
    "pending": "it is pending",
    "in_progress": "it is in progress",
    "review": "it is in review",
    "escalated": "it is escalated",
    "done": "it is done",
    "failed": "it is failed",
    "cancelled": "it is cancelled",
}


def test_table_covers_every_status() -> None:
    assert set(ALLOWED) == set(STATUSES) == set(IT_IS)


@pytest.mark.parametrize(("status", "verb"), CASES, ids=[f"{s}-{v}" for s, v in CASES])
def test_verb_from_status(web: Deck, refused: Refused, status: str, verb: str) -> None:
    key = task_in(web, status)
    before = web.get_task(key)
    if verb in ALLOWED[status]:
        cursor = web.max_event_id()
        VERBS[verb](web, key)
        after = web.get_task(key)
        assert after.status == ALLOWED[status][verb]
        assert after.version > before.version
        assert any(e.task == key and e.actor in ("gen", "ann") for e in events_after(web, cursor))
        return
    if verb in HOLDER_VERBS and status == "pending":
        with refused(LeaseExpiredError, f"cannot {verb} {key}", "pending", "claim it first"):
            VERBS[verb](web, key)
        return
    allowed = [SHOWN.get(v, v) for v in ALLOWED[status]]
    fragments = [key, f"{IT_IS[status]};", "allowed: "]
    fragments += allowed or ["nothing (it is closed)"]
    with refused(InvalidTransitionError, *fragments) as info:
        VERBS[verb](web, key)
    assert str(info.value).startswith(f"cannot {verb.replace('_', ' ')}")
    listed = str(info.value).split("allowed: ", 1)[1].split(", ")
    assert sorted(listed) == sorted(allowed) or (
        not allowed and listed == ["nothing (it is closed)"]
    )

"""One side of a race: a child process that does one verb per round, in step with its rival.

Each round both sides wait on a shared barrier, then call their verb at once; the outcome
(what the verb returned, or the error it raised) is reported as JSON when all rounds are done.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from agentdeck.core import Deck, DeckError
from agentdeck.core.models import Completion, Event, Task

BARRIER_TIMEOUT_S = 60.0


def _outcome(deck: Deck, op: dict[str, Any]) -> dict[str, Any]:
    """Call `deck.<verb>(*args, **kwargs)`; say what it returned or which DeckError it raised."""
    try:
        returned = getattr(deck, op["verb"])(*op["args"], **op["kwargs"])
    except DeckError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    if isinstance(returned, Completion):
        returned = returned.task
    if isinstance(returned, Task):
        return {"ok": True, "status": returned.status, "version": returned.version}
    if isinstance(returned, Event):
        return {"ok": True, "event_id": returned.id}
    return {"ok": True}


def race_side(
    db: str, ops: list[dict[str, Any]], barrier: threading.Barrier, out: str, tokens: list[str]
) -> None:
    """Do `ops` one per round, each started together with the rival's op through `barrier`,
    with the humans' `tokens` (the agents act by name: the board is in named mode).

    Any error other than a DeckError (a traceback a user would see) is reported as such; the
    parent fails the test on it.
    """
    outcomes: list[dict[str, Any]] = []
    with Deck.open(db) as deck:
        for token in tokens:
            deck.present(token)
        deck.get_task(ops[0]["args"][0])  # connect before the first round, not inside it
        for op in ops:
            barrier.wait(BARRIER_TIMEOUT_S)
            try:
                outcomes.append(_outcome(deck, op))
            except Exception as exc:  # reported to the parent, which fails the test
                outcomes.append({"ok": False, "error": "crash", "message": repr(exc)})
    tmp = Path(out).with_suffix(".tmp")
    tmp.write_text(json.dumps(outcomes))
    tmp.replace(Path(out))

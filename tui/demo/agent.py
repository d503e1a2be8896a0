"""One simulated agent process: plays one team role on the demo database, a turn at a time.

The orchestrator starts one of these per role (`python -m agentdeck.tui.demo.agent CONFIG_JSON`, with
the database in `AGENTDECK_DB`) and grants turns over a pipe: it writes `turn` on our stdin,
we take one turn of our role through `agentdeck.core.Deck` and answer with one JSON line,
`{"pause": seconds}` or `{"error": "..."}`. It acts with the credential the parent put in its
environment: an agent's `AGENTDECK_TOKEN`, or a human's own credential file.
Turn-taking is what makes a seed replay the same story: OS scheduling decides when a turn
runs, never in which order.

A process started with `"hold": true` first waits for `go` on stdin before loading anything,
so the lead's first turn has the CPU to itself. The process ends when its stdin closes (the parent is gone), on `stop`, on SIGTERM, and on
Linux when the parent dies (PR_SET_PDEATHSIG). It imports no terminal library.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import traceback
from typing import Any

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies, then check it has not already."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        sys.exit(0)


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str]) -> int:
    config = json.loads(argv[0])
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the demo ends
    die_with_parent(int(config["parent"]))
    if config.get("hold") and sys.stdin.readline().strip() != "go":
        return 0  # stopped before it was our turn to start

    from agentdeck.core import Deck, identity
    from agentdeck.core.storage.engine import ENV_DB
    from agentdeck.tui.demo.stories import story
    from agentdeck.tui.demo.team import Role, build

    role = Role.from_dict(config["role"])
    deck = Deck.open(os.environ[ENV_DB])  # set by the parent: the demo's database
    # As a real agent (AGENTDECK_TOKEN) or human (their credential file) would; the parent
    # put this role's credential in our environment.
    identity.present_credentials(deck)
    turns = build(role, deck, story(config["story"]), int(config["seed"]))
    try:
        _reply({"ready": True, "pid": os.getpid()})
        while sys.stdin.readline().strip() == "turn":
            try:
                pause = next(turns)
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                _reply({"error": f"{role.name}: {type(exc).__name__}: {exc}".splitlines()[0]})
                return 1
            _reply({"pause": pause})
    except BrokenPipeError:
        pass  # the parent is gone; nothing left to tell
    finally:
        deck.close()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the deck is closed; skip the interpreter's slow teardown of its modules

"""A writer whose files may not grow past a size limit: it logs big entries until the database
refuses one, and reports every step as a JSON line on stdout (a pipe, which no limit applies to).

Run as `python -m tests.hardening.full_disk_worker DB LIMIT_BYTES MAX_ENTRIES [--resume]`.
`LIMIT_BYTES` 0 means no limit. With `--resume` the process lifts its own limit after the
failure and logs once more through the same `Deck`, as a long-running console or MCP server
would once space is freed.

Lines: `{"ack": EVENT_ID, "seq": N}` for each entry the deck acknowledged,
`{"error": {"type", "message", "exit_code"}, "seq": N}` for the entry it refused (then the run
stops), and `{"resumed": EVENT_ID}` for the entry written after lifting the limit.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
from typing import Any

BOARD = "WEB"
TASK = "WEB-1"
AGENT = "gen"
ENTRY_CHARS = 60_000


def entry_text(seq: int) -> str:
    """The text of entry `seq`: about 60 KB, so a few entries fill the room left under a limit."""
    head = f"entry {seq}: "
    return head + "x" * (ENTRY_CHARS - len(head))


def _say(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def limit_file_size(limit: int) -> None:
    """Make writes past `limit` bytes fail with EFBIG instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))


def lift_file_size_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))


def run(db: str, limit: int, max_entries: int, resume: bool) -> None:
    if limit:
        limit_file_size(limit)
    from agentdeck.core import Deck, DeckError

    with Deck.open(db) as deck:
        for seq in range(max_entries):
            try:
                event = deck.log(TASK, entry_text(seq), actor=AGENT)
            except DeckError as exc:
                error = {
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "exit_code": exc.exit_code,
                }
                _say({"error": error, "seq": seq})
                break
            _say({"ack": event.id, "seq": seq})
        if resume:
            lift_file_size_limit()
            _say({"resumed": deck.log(TASK, "written after the limit was lifted", actor=AGENT).id})


if __name__ == "__main__":
    args = sys.argv[1:]
    run(args[0], int(args[1]), int(args[2]), "--resume" in args[3:])

"""The agent instructions block: the one text `agentdeck connect` writes into CLAUDE.md or
AGENTS.md (between marker comments, so running it again replaces the block and `--remove`
takes it out), and that README.md and tui/CLI.md show verbatim (a test checks both)."""

from __future__ import annotations

BEGIN = "<!-- agentdeck:begin (written by `agentdeck connect`; `agentdeck connect --remove` removes it) -->"
END = "<!-- agentdeck:end -->"

AGENT_INSTRUCTIONS = """\
## Task board
You are an agent on an agentdeck board; your credential is in AGENTDECK_TOKEN (never print it).
Run every command with `--json`.
1. `agentdeck claim --wait 600 --json` takes your next task, waiting up to 10 minutes for one
   (exit 3: none came; run it again, or stop). Read its description, success criteria, inbox
   and similar past tasks.
2. While working: `agentdeck doing "what you are doing"`, and log each step with
   `agentdeck log KEY "what happened" --kind action|tool_call|decision|observation`.
   Each of these renews your lease; quiet for minutes? `agentdeck heartbeat` keeps it.
3. Record usage: `agentdeck usage KEY --tokens-in N --tokens-out N --cost USD`.
4. Prove it works: `agentdeck log KEY "tests: 42 passed" --kind verification`.
5. Finish: `agentdeck done KEY "summary"`, or `agentdeck submit KEY "summary"` if it needs
   approval; if stuck, `agentdeck escalate KEY "what you need"`; if impossible,
   `agentdeck fail KEY "why"`.
6. Check `agentdeck inbox` for review notes, answers and messages; to ask your lead or
   another agent, `agentdeck send lead "question" --task KEY` (or a name instead of lead).
Exit codes: 1 usage/not found, 2 refused (read the message: it names the allowed moves),
3 nothing ready, 4 over budget (stop; a human must raise it), 5 database busy or disk full (retry).
"""


def marked_block() -> str:
    """The block between its markers, ending with a newline."""
    return f"{BEGIN}\n{AGENT_INSTRUCTIONS}{END}\n"

"""Trust, played by an adversary: an agent that holds only its own credential (AGENTDECK_TOKEN)
tries every move that is not its own, through the CLI, the MCP server, an import and the
console, on a board whose agents act by token and on one whose agents may act by name, on
SQLite and on PostgreSQL. Every refusal must be one line with its exit code (2 for a refused
move), and leave the database exactly as it was: the same last event, the same tasks, the same
rows (a rotated token would show in the `agent` table).

The board (`trusted`): humans `ann` (whose credential file sits in the same config directory
the agent runs in, as it would for an agent started by ann under her own OS user) and `bob`,
lead agent `planner`, workers `coder`, `designer` and `alice`; WEB-1 in review, WEB-2 done,
WEB-3 escalated (all coder's), WEB-4 ready for coder (python), WEB-5 assigned to designer.
Board OPS, in the same database, also has a `coder`; a second database has one too.

What a credential cannot protect against is tested here too, by name
(`test_threat_model_*`): an agent running as the same OS user that drops its token and reads
the human's credential file acts as the human. The README's threat model says so.

The rest of the adversarial suite lives next to what it tests, and is not repeated here:

- budget overshoot by 8 racing agent processes: `tests/concurrency/test_budget_stop.py`;
- clock skew on PostgreSQL (machines 20 minutes fast or slow): `tests/core/storage/
  test_server_clock.py`;
- symlink and FIFO imports: `tests/cli/test_import_files.py` and `tests/core/formats/
  test_untrusted_files.py`;
- usage recorded on another agent's task: `tests/core/test_budget_stops.py`;
- imports that try to skip review, cancel or take work (every case, in core):
  `tests/core/formats/test_import_lifecycle.py`; one CLI case is here;
- no MCP tool takes an `actor` (every tool, in-process): `tests/mcp/test_mcp_tools.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import StdioServerParameters, types
from typer.testing import CliRunner

from agentdeck.core import Deck, identity
from agentdeck.tui.cli.app import build_app
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.demo.screenshot import settle
from tests.cli.conftest import AGENTDECK, Ran
from tests.cli.test_errors import one_line_error
from tests.cli.test_reports import write_claude_task
from tests.conftest import _dump
from tests.console.conftest import SIZE, notices
from tests.console.test_moves import select
from tests.mcp.conftest import REPO, connected

MODES = ("token", "named")
MEMBERS = ("ann", "bob", "planner", "coder", "designer", "alice")
FORGED = "adk_" + "A" * 43  # well formed, nobody's
# Words in the name of a tool that would make a human move (or a lead's): none may exist.
HUMAN_MOVE_WORDS = {"approve", "reject", "reopen", "answer", "cancel", "budget", "assign", "agent"}


@dataclass
class Trusted:
    """The board under attack, and the credentials the tests hand out."""

    db: str
    mode: str
    tokens: dict[str, str]  # WEB's members', by name
    ops_coder: str  # coder's token on board OPS, same database
    foreign_coder: str  # coder's token on board WEB of another database
    config: Path  # the config directory (XDG_CONFIG_HOME) holding ann's credential file
    deck: Deck  # a handle for checking; it holds every WEB member's token

    @property
    def other_mode(self) -> str:
        return "named" if self.mode == "token" else "token"

    def state(self) -> tuple[int, list[dict[str, Any]], Any]:
        """What a refusal must leave as it was: the last event, every task, every row."""
        tasks = [
            t.to_dict()
            for board in ("WEB", "OPS")
            for t in self.deck.list_tasks(board, include_cancelled=True)
        ]
        return self.deck.max_event_id(), tasks, _dump(self.deck)


def build_board(deck: Deck, mode: str) -> None:
    """WEB and OPS as the module docstring describes them."""
    deck.create_board("WEB", "Website", actor="ann", lead="planner", agents=mode)
    deck.add_agent("bob", actor="ann", kind="human")
    deck.add_agent("coder", actor="ann", skills=["python"])
    deck.add_agent("designer", actor="ann", skills=["css"])
    deck.add_agent("alice", actor="ann")
    for title in ("Review me", "Reopen me", "Answer me"):
        key = deck.add_task(title, actor="ann", assignee="coder").key
        deck.claim("coder", key=key)
    deck.submit("WEB-1", actor="coder", result="first draft")
    deck.complete("WEB-2", actor="coder", result="shipped")
    deck.escalate("WEB-3", actor="coder", reason="which API key?")
    deck.add_task("Cancel me", actor="ann", skills=["python"])
    deck.add_task("Designer's", actor="ann", assignee="designer")
    deck.create_board("OPS", "Operations", actor="ann", agents=mode)
    deck.add_agent("coder", actor="ann", board="OPS")


@pytest.fixture(params=MODES)
def trusted(
    request: pytest.FixtureRequest,
    db_url: str,
    tmp_path: Path,
    _own_credential_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Trusted]:
    mode = str(request.param)
    with Deck.open(db_url, create=True) as deck:
        build_board(deck, mode)
        tokens = {name: deck.issued_token(name, "WEB") or "" for name in MEMBERS}
        ops_coder = deck.issued_token("coder", "OPS") or ""
        identity.save_credential(
            identity.database_id(deck.url, deck.path), "WEB", "ann", tokens["ann"]
        )
    with Deck.open(tmp_path / "other.db", create=True) as other:
        other.create_board("WEB", "Another website", actor="eve")
        other.add_agent("coder", actor="eve")
        foreign = other.issued_token("coder", "WEB") or ""
    monkeypatch.setenv("AGENTDECK_DB", db_url)
    monkeypatch.setenv("AGENTDECK_BOARD", "WEB")
    for name in ("AGENTDECK_AS", "AGENTDECK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with Deck.open(db_url) as checker:
        for token in tokens.values():
            checker.present(token)
        yield Trusted(db_url, mode, tokens, ops_coder, foreign, _own_credential_file, checker)


def cli(*args: str, token: str | None, env: dict[str, str | None] | None = None) -> Ran:
    """`agentdeck ARGS` in-process through the real app, with only `token` as AGENTDECK_TOKEN
    (None: unset) in the test's environment, where ann's credential file is."""
    environment: dict[str, str | None] = {"AGENTDECK_TOKEN": token, **(env or {})}
    result = CliRunner().invoke(build_app(), list(args), env=environment)
    return Ran(result.exit_code, result.stdout, result.stderr)


def process(*args: str, env: dict[str, str]) -> Ran:
    """`agentdeck ARGS` as a real process with exactly `env` (plus PATH, the database, and
    in-process: tests/cli/test_resident.py checks identity through the resident server)."""
    base = {k: os.environ[k] for k in ("PATH", "AGENTDECK_DB", "AGENTDECK_BOARD")}
    base["AGENTDECK_NO_SERVER"] = "1"  # in-process: no resident server outliving the test
    ran = subprocess.run(
        [str(AGENTDECK), *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
    )
    return Ran(ran.returncode, ran.stdout, ran.stderr)


def refused(
    t: Trusted, run: Callable[[], Ran], *says: str, code: int = 2, what: object = ""
) -> str:
    """Run a command that must be refused with `code` in one line containing every `says`,
    having written nothing; the line."""
    before = t.state()
    ran = run()
    assert ran.exit_code == code, (what, ran.exit_code, ran.stdout, ran.stderr)
    line = one_line_error(ran.stderr)
    for fragment in says:
        assert fragment in line, (what, fragment, line)
    assert t.state() == before, f"{what}: a refused command changed the database"
    return line


def human_moves(t: Trusted) -> list[tuple[str, ...]]:
    """Every human-only move, as CLI arguments, each one the board allows a human now."""
    return [
        ("approve", "WEB-1"),
        ("reject", "WEB-1", "--notes", "redo it"),
        ("reopen", "WEB-2", "--notes", "it broke"),
        ("answer", "WEB-3", "use the staging key"),
        ("cancel", "WEB-4", "--reason", "not needed"),
        ("budget", "set", "tokens", "--hard", "1"),
        ("board", "agents", t.other_mode),
        ("agent", "add", "evil", "--human"),
        ("agent", "token", "ann", "--rotate"),
        ("agent", "token", "bob", "--revoke"),
    ]


def events_of(t: Trusted, since: int) -> list[tuple[str, str, str, str]]:
    return [(e.kind, e.subkind, e.actor, e.auth) for e in t.deck.events_since(since)]


# -- the human's moves, with the agent's own token ------------------------------------------------


def test_the_human_with_their_credential_file_makes_each_of_these_moves(trusted: Trusted) -> None:
    """The control: each move the agent is refused below is one ann may make now, with her
    credential file and no token (reject aside: approving WEB-1 first takes it out of review)."""
    for move in human_moves(trusted):
        if move[0] == "reject":
            continue
        cursor = trusted.deck.max_event_id()
        ran = cli(*move, token=None)
        assert ran.exit_code == 0, (move, ran.stderr)
        assert {e[2:] for e in events_of(trusted, cursor)} == {("ann", "credential file")}, move


def test_an_agent_cannot_make_a_human_move_as_the_human(trusted: Trusted) -> None:
    coder = trusted.tokens["coder"]
    for move in human_moves(trusted):
        for name in ("ann", "Ann", "bob"):
            refused(
                trusted,
                lambda m=move, n=name: cli(*m, "--as", n, token=coder),
                f"the credential given is coder's on board WEB; it cannot act as {name.lower()}",
                what=(move, name),
            )


def test_an_agent_cannot_make_a_human_move_as_itself(trusted: Trusted) -> None:
    coder = trusted.tokens["coder"]
    for move in human_moves(trusted):
        line = refused(trusted, lambda m=move: cli(*m, token=coder), "only a human", what=move)
        assert "coder is an agent" in line, line


def test_the_lead_cannot_make_a_human_move_either(trusted: Trusted) -> None:
    planner = trusted.tokens["planner"]
    for move in human_moves(trusted):
        refused(trusted, lambda m=move: cli(*m, token=planner), "only a human", what=move)


def test_a_confusable_name_for_the_human_finds_nobody(trusted: Trusted) -> None:
    """`--as \\u0430nn` (a Cyrillic a), a zero-width space or a combining accent is not ann:
    it names nobody, so nothing can be done under it."""
    for name in ("\u0430nn", "a\u200bnn", "ann\u0301"):
        refused(
            trusted,
            lambda n=name: cli("approve", "WEB-1", "--as", n, token=trusted.tokens["coder"]),
            code=1,
            what=name,
        )


def test_agentdeck_as_naming_the_human_does_not_lend_the_agent_their_rights(
    trusted: Trusted,
) -> None:
    """Through the real script: AGENTDECK_AS=ann next to the agent's own token."""
    for name in ("ann", "bob"):
        env = {"AGENTDECK_TOKEN": trusted.tokens["coder"], "AGENTDECK_AS": name}
        refused(
            trusted,
            lambda e=env: process("approve", "WEB-1", env=e),
            f"the credential given is coder's on board WEB; it cannot act as {name}",
            what=name,
        )


def test_an_agent_cannot_act_as_another_agent_with_its_token(trusted: Trusted) -> None:
    """The designer's task, its claim, its inbox and log are not the coder's to touch, even
    on a board where agents may act by name: a credential binds its holder to itself."""
    coder = trusted.tokens["coder"]
    for move in [
        ("claim", "WEB-5"),
        ("claim",),
        ("inbox",),
        ("doing", "painting"),
        ("heartbeat",),
        ("usage", "--tokens-in", "5"),
        ("task", "add", "Sneaky"),
        ("assign", "WEB-4", "designer"),
    ]:
        refused(
            trusted,
            lambda m=move: cli(*m, "--as", "designer", token=coder),
            "the credential given is coder's on board WEB; it cannot act as designer",
            what=move,
        )


# -- credentials that are not (or no longer) the agent's -----------------------------------------


def dead_credential(t: Trusted, kind: str) -> tuple[str, str]:
    """A token of `kind` that proves nothing on WEB, and the name it (once) belonged to."""
    if kind == "forged":
        return FORGED, "coder"
    if kind == "revoked":
        t.deck.revoke_credential("designer", actor="ann", board="WEB")
        return t.tokens["designer"], "designer"
    if kind == "rotated":
        t.deck.rotate_credential("designer", actor="ann", board="WEB")
        return t.tokens["designer"], "designer"
    if kind == "other board":
        return t.ops_coder, "coder"
    assert kind == "other database"
    return t.foreign_coder, "coder"


@pytest.mark.parametrize("kind", ["forged", "revoked", "rotated", "other board", "other database"])
def test_a_dead_or_foreign_token_proves_nobody(trusted: Trusted, kind: str) -> None:
    """A forged token, another agent's revoked token, one replaced by a rotation, one of
    another board or another database: each proves nobody here. No human move is possible
    with it; on a token board no agent move either; on a named board it is worth exactly a
    name, and the event says so."""
    token, was = dead_credential(trusted, kind)
    refused(
        trusted,
        lambda: cli("approve", "WEB-1", token=token),
        "AGENTDECK_TOKEN is no member's credential on board WEB",
        what=kind,
    )
    refused(
        trusted,
        lambda: cli("approve", "WEB-1", "--as", "ann", token=token),
        "ann is a human on board WEB and acts only with their credential, never by name",
        what=kind,
    )
    refused(trusted, lambda: cli("claim", token=token), "no member's credential", what=kind)
    as_holder = ("log", "WEB-5" if was == "designer" else "WEB-1", "psst", "--as", was)
    if trusted.mode == "token":
        refused(
            trusted,
            lambda: cli(*as_holder, token=token),
            f"{was} must present its credential on board WEB",
            what=kind,
        )
        return
    if was == "designer":  # the log of a task assigned to it, not held: still refused
        as_holder = ("task", "add", "By name", "--as", was)
    cursor = trusted.deck.max_event_id()
    ran = cli(*as_holder, token=token)
    assert ran.exit_code == 0, ran.stderr
    assert [e[2:] for e in events_of(trusted, cursor)] == [(was, "named")]


def test_a_token_that_is_not_a_credential_is_one_line(trusted: Trusted) -> None:
    for garbage in ("hunter2", "adk_", "adk_" + "\u00e9" * 40, "adk_short"):
        refused(
            trusted,
            lambda g=garbage: cli("approve", "WEB-1", "--as", "ann", token=g),
            "AGENTDECK_TOKEN is not an agentdeck credential",
            code=1,
            what=garbage,
        )


# -- the human's credential file in the same home ----------------------------------------------


def same_home(t: Trusted, tmp_path: Path) -> Path:
    """A home directory whose ~/.config/agentdeck/credentials.json holds ann's credential,
    as an agent started by ann under her own OS user would find it."""
    home = tmp_path / "home"
    (home / ".config" / "agentdeck").mkdir(parents=True)
    (home / ".config" / "agentdeck" / "credentials.json").write_text(
        (t.config / "agentdeck" / "credentials.json").read_text()
    )
    return home


def test_with_its_token_set_an_agent_never_reads_the_humans_file(
    trusted: Trusted, tmp_path: Path
) -> None:
    """The protection we promise: while AGENTDECK_TOKEN is set, the credential file next to it
    is not read, so the agent's process is the agent and nothing more. (Had ann's token been
    read, `--as ann` would pass.)"""
    env = {"HOME": str(same_home(trusted, tmp_path)), "AGENTDECK_TOKEN": trusted.tokens["coder"]}
    refused(trusted, lambda: process("approve", "WEB-1", env=env), "coder is an agent")
    for move in [("approve", "WEB-1"), ("agent", "token", "ann", "--rotate")]:
        refused(
            trusted,
            lambda m=move: process(*m, "--as", "ann", env=env),
            "the credential given is coder's on board WEB; it cannot act as ann",
            what=move,
        )


def test_threat_model_an_agent_that_unsets_its_token_and_reads_the_humans_file_acts_as_the_human(
    trusted: Trusted, tmp_path: Path
) -> None:
    """What a credential cannot protect against, as the README's threat model says: an agent
    running as the same OS user as the human can drop AGENTDECK_TOKEN and let the CLI read the
    human's credential file, and then it *is* the human. The event log shows the move as the
    human's, made with the credential file: the only separation is the OS user."""
    env = {"HOME": str(same_home(trusted, tmp_path))}
    cursor = trusted.deck.max_event_id()
    ran = process("approve", "WEB-1", env=env)
    assert ran.exit_code == 0, ran.stderr
    assert trusted.deck.get_task("WEB-1").status == "done"
    assert events_of(trusted, cursor) == [("approval", "approved", "ann", "credential file")]


# -- adding members and names ------------------------------------------------------------------


def test_only_the_lead_adds_agents_and_never_a_human(trusted: Trusted) -> None:
    refused(
        trusted,
        lambda: cli("agent", "add", "evil", token=trusted.tokens["coder"]),
        "only a human or the board's lead may add agents; coder is neither",
    )
    planner = trusted.tokens["planner"]
    refused(
        trusted,
        lambda: cli("agent", "add", "boss", "--human", token=planner),
        "only a human may add a human; planner is an agent",
    )
    cursor = trusted.deck.max_event_id()
    ran = cli("agent", "add", "helper", "--json", token=planner)
    assert ran.exit_code == 0, ran.stderr
    added = json.loads(ran.stdout)
    assert (added["name"], added["kind"], added["token"][:4]) == ("helper", "agent", "adk_")
    assert events_of(trusted, cursor) == [("agent", "added", "planner", "token")]
    # The new agent's token is its own, and only its own.
    refused(
        trusted,
        lambda: cli("approve", "WEB-1", "--as", "ann", token=added["token"]),
        "the credential given is helper's on board WEB; it cannot act as ann",
    )


def test_names_that_read_as_a_members_are_refused(trusted: Trusted) -> None:
    planner = trusted.tokens["planner"]
    for name, says in [
        ("\u0430lice", "mixes Latin and Cyrillic letters"),
        ("Alice", "'Alice' is already on board WEB as 'alice'"),
        ("a1ice", "'a1ice' looks like 'alice', already on board WEB"),
    ]:
        refused(
            trusted,
            lambda n=name: cli("agent", "add", n, token=planner),
            says,
            code=1,
            what=name,
        )


# -- imports -----------------------------------------------------------------------------------


def test_an_agent_reimport_that_finishes_cancels_or_takes_work_is_left_alone(
    trusted: Trusted, tmp_path: Path
) -> None:
    """A file is no credential: the agent's re-import of a Claude task list that marks others'
    work done, cancels a task and hands work around changes none of it, and says so per task;
    and importing it "as ann" with the agent's token is refused outright."""
    folder = tmp_path / "claude"
    folder.mkdir()
    write_claude_task(folder, "1", "Ship the form", "in_progress", owner="designer")
    write_claude_task(folder, "2", "Write the copy", "pending")
    write_claude_task(folder, "3", "Pick the fonts", "pending", owner="designer")
    trusted.deck.import_claude(folder, actor="ann", board="WEB")
    first = {t.key: (t.status, t.assignee) for t in trusted.deck.list_tasks("WEB")}
    assert {k: first[k] for k in ("WEB-6", "WEB-7", "WEB-8")} == {
        "WEB-6": ("in_progress", "designer"),
        "WEB-7": ("pending", None),
        "WEB-8": ("pending", "designer"),
    }
    write_claude_task(folder, "1", "Ship the form", "completed", owner="designer")
    write_claude_task(folder, "2", "Write the copy", "deleted")
    write_claude_task(folder, "3", "Pick the fonts", "pending", owner="coder")
    coder = trusted.tokens["coder"]
    refused(
        trusted,
        lambda: cli("import", "claude", str(folder), "--as", "ann", token=coder),
        "the credential given is coder's on board WEB; it cannot act as ann",
    )
    before = trusted.state()
    ran = cli("import", "claude", str(folder), "--json", token=coder)
    assert ran.exit_code == 0, ran.stderr
    assert trusted.state() == before
    skipped = {s["key"]: s for s in json.loads(ran.stdout)["skipped"]}
    assert {k: (s["wanted"], s["status"]) for k, s in skipped.items()} == {
        "WEB-6": ("done", "in_progress"),
        "WEB-7": ("cancelled", "pending"),
        "WEB-8": ("assigned to coder", "pending"),
    }


# -- the MCP server ----------------------------------------------------------------------------


def mcp_server(t: Trusted, env: dict[str, str], *args: str) -> StdioServerParameters:
    """`agentdeck mcp` the way an agent's MCP configuration starts it, with `env` only (the
    SDK adds HOME and PATH)."""
    return StdioServerParameters(
        command=str(AGENTDECK),
        args=["mcp", "--db", t.db, *args],
        env={"PYTHONPATH": str(REPO), "AGENTDECK_DB": "", "AGENTDECK_AS": "", **env},
        cwd=str(REPO),
    )


def run_mcp(
    t: Trusted, params: StdioServerParameters, errlog: Path, script: Callable[..., Any]
) -> None:
    """Connect to a freshly spawned server and run `script(call)`, where
    `await call(tool, args)` returns (is_error, text)."""

    async def main() -> None:
        async with connected(params, errlog) as session:

            async def call(tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
                result = await session.call_tool(tool, arguments)
                [content] = result.content
                assert isinstance(content, types.TextContent)
                return bool(result.is_error), content.text

            await script(session, call)

    anyio.run(main)
    assert "Traceback" not in errlog.read_text()


def test_the_mcp_server_acts_only_as_its_tokens_holder(trusted: Trusted, tmp_path: Path) -> None:
    env = {"AGENTDECK_TOKEN": trusted.tokens["coder"], "XDG_CONFIG_HOME": str(trusted.config)}
    cursor = trusted.deck.max_event_id()

    async def script(session: Any, call: Callable[..., Any]) -> None:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert "claim" in tools
        assert not {n for n in tools if any(word in n for word in HUMAN_MOVE_WORDS)}, tools
        for other in ("ann", "designer", "Ann"):
            for tool, args in [
                ("claim", {"board": "WEB"}),
                ("log", {"key": "WEB-1", "text": "psst"}),
                ("create_task", {"title": "Sneaky"}),
                ("inbox", {}),
            ]:
                before = trusted.state()
                error, text = await call(tool, {**args, "actor": other})
                assert error and "there is no actor argument" in text, (tool, other, text)
                assert trusted.state() == before
        result = await session.call_tool("claim", {"board": "WEB"})
        assert not result.is_error, result.content
        claimed = result.structured_content["task"]
        assert (claimed["key"], claimed["assignee"]) == ("WEB-4", "coder")
        before = trusted.state()
        error, text = await call("log", {"key": "WEB-5", "text": "on designer's task"})
        assert error and "WEB-5" in text, text
        assert trusted.state() == before

    run_mcp(trusted, mcp_server(trusted, env), tmp_path / "mcp.log", script)
    assert {(e[2], e[3]) for e in events_of(trusted, cursor)} == {("coder", "token")}


def test_the_mcp_server_will_not_start_as_someone_its_token_is_not(trusted: Trusted) -> None:
    env = {"AGENTDECK_TOKEN": trusted.tokens["coder"], "XDG_CONFIG_HOME": str(trusted.config)}
    before = trusted.state()
    for other in ("designer", "Ann"):
        ran = subprocess.run(
            [str(AGENTDECK), "mcp", "--db", trusted.db, "--as", other],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.environ["PATH"], **env},
            timeout=60,
        )
        assert ran.returncode == 2, ran.stderr
        assert one_line_error(ran.stderr) == (
            f"AGENTDECK_TOKEN is coder's credential; it cannot act as {other}"
        )
        assert ran.stdout == ""
    assert trusted.state() == before


def test_the_mcp_server_never_reads_the_humans_credential_file(
    trusted: Trusted, tmp_path: Path
) -> None:
    """Started as `--as ann` with no token, next to ann's credential file: a human never acts
    by name, so every tool that acts is refused. (Reading tools answer: reading a board needs
    no identity, only the database.)"""
    env = {"XDG_CONFIG_HOME": str(trusted.config), "HOME": str(same_home(trusted, tmp_path))}
    acting = [
        ("create_task", {"title": "As ann", "board": "WEB"}),
        ("plan", {"tasks": [{"title": "As ann"}], "board": "WEB"}),
        ("claim", {"board": "WEB"}),
        ("heartbeat", {"board": "WEB"}),
        ("doing", {"text": "approving", "board": "WEB"}),
        ("log", {"key": "WEB-1", "text": "approved"}),
        ("usage", {"board": "WEB", "tokens_in": 5}),
        ("submit", {"key": "WEB-4"}),
        ("done", {"key": "WEB-1"}),
        ("fail", {"key": "WEB-1", "reason": "x"}),
        ("escalate", {"key": "WEB-1", "reason": "x"}),
        ("release", {"key": "WEB-1"}),
        ("inbox", {"board": "WEB"}),
    ]

    async def script(session: Any, call: Callable[..., Any]) -> None:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert {name for name, _ in acting} <= tools
        for tool, args in acting:
            before = trusted.state()
            error, text = await call(tool, args)
            assert error, (tool, text)
            assert "ann is a human on board WEB and acts only with their credential" in text, (
                tool,
                text,
            )
            assert trusted.state() == before, tool

    run_mcp(trusted, mcp_server(trusted, env, "--as", "ann"), tmp_path / "mcp.log", script)


# -- the console -------------------------------------------------------------------------------


def test_the_console_without_a_credential_approves_nothing(
    trusted: Trusted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console opened by someone with no credential file (an agent's shell, a shared
    machine), claiming to be ann: pressing `a` on the task in review shows an error notice
    and writes nothing."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nobody"))
    before = trusted.state()
    shown: list[str] = []

    async def scenario() -> None:
        app = AgentDeckApp(db=trusted.db, actor="ann", board="WEB", watch=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await select(pilot, app, "WEB-1")
            await pilot.press("a")
            await settle(pilot)
            shown.extend(notices(app))
            assert app.is_running

    anyio.run(scenario)
    assert any(
        "you hold no credential for board WEB, so you can look but not act" in n for n in shown
    ), shown
    assert trusted.state() == before

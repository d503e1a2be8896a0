"""`agentdeck connect`: set an agent client up for a board in one command.

A human runs it in the project's directory. It adds the agent to the board (or gives the
existing agent a working token), then writes what the client needs, merged into the files the
user already has (`client_files`):

claude-code
    `.mcp.json`: the `agentdeck` MCP server, whose env names `${AGENTDECK_TOKEN}` (Claude Code
    expands it) and never holds the token itself, since the file is meant to be committed.
    `.claude/settings.local.json` (Claude Code's personal, uncommitted settings; agentdeck
    also makes sure git ignores it): `env` with AGENTDECK_DB, AGENTDECK_BOARD and the token,
    which Claude Code gives the MCP server, its Bash tool and hooks; and two hooks:
    SessionStart (`agentdeck hook session-start`: the agent's unread inbox) and PostToolUse on
    TaskCreate|TaskUpdate|TodoWrite (`agentdeck hook claude-code-task`: Claude's own task list
    mirrored to the board). CLAUDE.md: the instructions block between marker comments.
codex
    `$CODEX_HOME/config.toml` (default ~/.codex; per user, not in the project):
    `[mcp_servers.agentdeck]` with the environment, and the same variables in
    `[shell_environment_policy.set]` for the commands Codex runs. AGENTS.md: the block.
--print
    Writes nothing: prints a generic MCP server entry (with the token) and the variables to
    set, for any other client.

Running it again rewrites the same bytes: the token written last time is reused while it is
still the agent's; a token that no longer works is replaced by a rotation (only a human may
rotate another member's token). `--remove` takes out exactly what it wrote and revokes the
agent's token (`--keep-token` keeps it). An agent's process (AGENTDECK_TOKEN set) is refused:
only a human adds agents and hands out their tokens.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from agentdeck.core import identity
from agentdeck.tui.cli import client_files as files
from agentdeck.tui.cli.context import Session, deck_command, split_list
from agentdeck.tui.cli.errors import EXIT_REFUSED, CliError, warn
from agentdeck.tui.cli.instructions import BEGIN, END, marked_block
from agentdeck.tui.cli.output import safe, say

DEFAULT_AGENT = {"claude-code": "claude", "codex": "codex", "print": "agent"}
TASK_TOOLS_MATCHER = "TaskCreate|TaskUpdate|TodoWrite"


@dataclass
class Change:
    """One file connect writes: what it holds now and what it will hold (None: no file)."""

    path: Path
    before: str | None
    after: str | None
    private: bool  # holds a token: owner-only
    what: str  # what agentdeck keeps there, for people

    def action(self) -> str:
        if self.before == self.after:
            return "unchanged"
        if self.after is None:
            return "deleted"
        return "created" if self.before is None else "updated"


@deck_command()
def connect(
    s: Session,
    client: Annotated[
        str | None,
        typer.Argument(
            metavar="claude-code|codex",
            help="The agent's client; leave out with --print.",
            show_default=False,
        ),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            metavar="NAME",
            help="The agent's name on the board (default: claude, codex, or agent with --print).",
        ),
    ] = None,
    print_only: Annotated[
        bool,
        typer.Option(
            "--print",
            help="Write nothing: print an MCP server entry with the token and the variables "
            "to set, for any MCP client.",
        ),
    ] = False,
    remove: Annotated[
        bool,
        typer.Option(
            "--remove",
            help="Take out what connect wrote (and only that), and revoke the agent's token.",
        ),
    ] = False,
    keep_token: Annotated[
        bool, typer.Option("--keep-token", help="With --remove: leave the agent's token working.")
    ] = False,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", metavar="PATH", help="The project directory (default: here)."),
    ] = None,
    skills: Annotated[str, typer.Option(help="Skills of a new agent, comma-separated.")] = "",
    role: Annotated[str, typer.Option(help="A new agent's role, like 'backend dev'.")] = "",
    otel_endpoint: Annotated[
        str,
        typer.Option(
            "--otel-endpoint",
            metavar="URL",
            help="Claude Code: where its telemetry goes, the address of `agentdeck otel`.",
        ),
    ] = files.DEFAULT_OTEL_ENDPOINT,
    telemetry: Annotated[
        bool,
        typer.Option(
            "--telemetry/--no-telemetry",
            help="Claude Code: send its own token and cost figures to `agentdeck otel` "
            "(--no-telemetry leaves telemetry out, and takes out agentdeck's).",
        ),
    ] = True,
) -> None:
    """Set an agent up on the board in one command: add it (or give it a working token),
    write its MCP server entry, its token where the client keeps private settings, the
    instructions block in CLAUDE.md or AGENTS.md and, for Claude Code, hooks that show its
    inbox at session start and mirror its own task list, and the telemetry settings that send
    the usage it measures to `agentdeck otel` with its token. Run it as a human (your
    credential file); running it again changes nothing, --remove undoes it.

    Example: agentdeck connect claude-code --agent coder --skills python
    """
    kind = _client(client, print_only, remove)
    if identity.from_environment(identity.ENV_TOKEN):
        raise CliError(
            f"connect runs as a human: {identity.ENV_TOKEN} is set, so this is an agent's "
            "process, and only a human adds agents and hands out their tokens",
            EXIT_REFUSED,
        )
    project = (directory or Path.cwd()).resolve()
    if not project.is_dir():
        raise CliError(f"{project} is not a directory")
    name = agent or DEFAULT_AGENT[kind]
    endpoint = _telemetry_endpoint(kind, otel_endpoint, telemetry)
    if remove:
        _remove(s, kind, project, name, keep_token)
    elif kind == "print":
        _print(s, name, skills, role)
    else:
        _connect(s, kind, project, name, skills, role, endpoint)


def _telemetry_endpoint(kind: str, endpoint: str, telemetry: bool) -> str | None:
    """Where Claude Code's telemetry goes, or None for none (other clients, --no-telemetry)."""
    endpoint = endpoint.strip().rstrip("/")
    if endpoint != files.DEFAULT_OTEL_ENDPOINT and (kind != "claude-code" or not telemetry):
        raise CliError("--otel-endpoint is for `connect claude-code` with its telemetry on")
    if kind != "claude-code" or not telemetry:
        return None
    if not endpoint.startswith(("http://", "https://")) or any(c.isspace() for c in endpoint):
        raise CliError(
            f"--otel-endpoint {safe(endpoint[:80], one_line=True)!r} is not an http:// or "
            "https:// URL, like http://127.0.0.1:4318"
        )
    return endpoint


def _client(client: str | None, print_only: bool, remove: bool) -> str:
    if print_only:
        if client is not None or remove:
            raise CliError("--print writes nothing: give it no client and no --remove")
        return "print"
    if client not in ("claude-code", "codex"):
        raise CliError(
            "say which client: `agentdeck connect claude-code`, `agentdeck connect codex`, "
            "or `agentdeck connect --print` for any other"
        )
    return client


def _connect(
    s: Session,
    kind: str,
    project: Path,
    name: str,
    skills: str,
    role: str,
    endpoint: str | None,
) -> None:
    changes = _read(kind, project, telemetry=endpoint is not None)  # refuses a damaged file
    saved = _saved_token(kind, changes)  # ... or a telemetry conflict, before the board changes
    board, name, token, how = _credential(s, name, saved, skills, role)
    env = {"AGENTDECK_DB": _database(s), "AGENTDECK_BOARD": board, "AGENTDECK_TOKEN": token}
    if endpoint is not None:
        changes[1].what += f", and telemetry to agentdeck otel at {endpoint}"
    _plan(kind, changes, env, endpoint)
    exclude = None
    if kind == "claude-code":
        exclude = files.keep_out_of_git(project, changes[1].path)
    for change in changes:
        files.write_atomic(change.path, change.after, private=change.private)
    _report(s, kind, name, board, how, changes, exclude=exclude, telemetry=endpoint)


def _read(kind: str, project: Path, *, telemetry: bool = False) -> list[Change]:
    """The files this client's connection touches, as they are now (each parsed, so a file
    that is not valid JSON or TOML, or telemetry settings of the user's own where agentdeck
    would write its own, is refused here, before anything changes)."""
    if kind == "claude-code":
        found = [
            (project / ".mcp.json", False, "the agentdeck MCP server (no token)"),
            (
                project / ".claude" / "settings.local.json",
                True,
                "the token and database in env, and the hooks",
            ),
            (project / "CLAUDE.md", False, "the instructions block"),
        ]
    else:
        found = [
            (_codex_home() / "config.toml", True, "the MCP server and shell environment"),
            (project / "AGENTS.md", False, "the instructions block"),
        ]
    changes = []
    for path, private, what in found:
        text = files.read_text(path)
        changes.append(Change(path, text, text, private, what))
    if kind == "claude-code":
        files.json_object(changes[0].path, changes[0].before)
        files.saved_env(changes[1].path, changes[1].before)
        files.merge_claude_settings(changes[1].path, changes[1].before, None, None)
        if telemetry:
            wanted = dict.fromkeys(files.TELEMETRY_KEYS, "")
            files.merge_claude_settings(changes[1].path, changes[1].before, wanted, None)
    else:
        files.codex_token(changes[0].path, changes[0].before)
        trial = files.codex_block("agentdeck", dict.fromkeys(files.ENV_KEYS, ""))
        files.merge_codex_config(changes[0].path, changes[0].before, trial)  # conflicts now
    doc = changes[-1]
    files.merge_block(doc.path, doc.before, None, BEGIN, END)
    return changes


def _codex_home() -> Path:
    home = identity.from_environment("CODEX_HOME")
    return Path(home).expanduser() if home else Path.home() / ".codex"


def _saved_token(kind: str, changes: list[Change]) -> str | None:
    if kind == "claude-code":
        return files.saved_env(changes[1].path, changes[1].before).get("AGENTDECK_TOKEN")
    return files.codex_token(changes[0].path, changes[0].before)


def _credential(
    s: Session, name: str, saved: str | None, skills: str, role: str
) -> tuple[str, str, str, str]:
    """(board, the agent's name as the board spells it, its token, how it got it: new,
    reused or rotated). Adds the agent if it is not on the board."""
    from agentdeck.core.errors import NotFoundError

    deck = s.deck()
    board = deck.get_board(s.board).key
    held = deck.whoami(board)
    if held is None or held.kind != "human":
        raise CliError(
            f"connect needs a human's credential for board {board}: run it at your own "
            "terminal (the credential file `board create` or `agentdeck login` saved)",
            EXIT_REFUSED,
        )
    try:
        member = deck.get_agent(name, board)
    except NotFoundError:
        added = deck.add_agent(
            name,
            actor=held.name,
            board=board,
            skills=split_list(skills),
            role=role,
        )
        return board, added.name, deck.issued_token(added.name, board) or "", "new"
    if member.kind != "agent":
        raise CliError(f"{member.name} is a human on board {board}; connect sets up agents")
    if saved and _still_works(s, saved, board, member.name):
        return board, member.name, saved, "reused"
    rotated = deck.rotate_credential(member.name, actor=held.name, board=board)
    return board, member.name, rotated.token, "rotated"


def _still_works(s: Session, token: str, board: str, name: str) -> bool:
    """Whether `token` is still `name`'s on `board` (asked of a deck holding that token only,
    so the human's own credentials cannot answer for it)."""
    from agentdeck.core import Deck
    from agentdeck.core.errors import DeckError

    deck = s.deck()
    try:
        with Deck.open(deck.path or s.db) as probe:
            probe.present(token)
            held = probe.whoami(board)
    except DeckError:
        return False
    return held is not None and held.kind == "agent" and held.name == name


def _database(s: Session) -> str:
    """The database as the agent's processes should name it from any directory."""
    deck = s.deck()
    return str(deck.path.resolve()) if deck.path is not None else str(s.db or deck.url)


def _executable() -> str:
    """How the files name agentdeck: `agentdeck` when that is this program on PATH, else its
    full path (with a warning: the agent's own shell will not find it by name)."""
    me = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if me is None or me.name != "agentdeck" or not me.is_file():
        return "agentdeck"
    found = shutil.which("agentdeck")
    if found and Path(found).resolve() == me:
        return "agentdeck"
    warn(f"agentdeck is not on PATH here; the files name it by its full path, {me}")
    return str(me)


def _plan(
    kind: str, changes: list[Change], env: dict[str, str], endpoint: str | None = None
) -> None:
    """Fill in each change's new text from the credential and the client's formats (and, for
    Claude Code with an `endpoint`, its telemetry settings)."""
    program = _executable()
    if kind == "claude-code":
        mcp, settings, doc = changes
        entry = {
            "type": "stdio",
            "command": program,
            "args": ["mcp"],
            "env": {key: "${" + key + "}" for key in files.ENV_KEYS},
        }
        mcp.after = files.merge_mcp_json(mcp.path, mcp.before, entry)
        shell = shlex.quote(program)
        hooks: dict[str, dict[str, Any]] = {
            "SessionStart": {
                "hooks": [{"type": "command", "command": f"{shell} hook session-start"}]
            },
            "PostToolUse": {
                "matcher": TASK_TOOLS_MATCHER,
                "hooks": [{"type": "command", "command": f"{shell} hook claude-code-task"}],
            },
        }
        variables = dict(env)
        if endpoint is not None:
            variables.update(files.telemetry_env(endpoint, env["AGENTDECK_TOKEN"]))
        settings.after = files.merge_claude_settings(
            settings.path, settings.before, variables, hooks
        )
    else:
        config, doc = changes
        config.after = files.merge_codex_config(
            config.path, config.before, files.codex_block(program, env)
        )
    doc.after = files.merge_block(doc.path, doc.before, marked_block(), BEGIN, END)


def _remove(s: Session, kind: str, project: Path, name: str, keep_token: bool) -> None:
    changes = _read(kind, project)
    if kind == "claude-code":
        mcp, settings, doc = changes
        mcp.after = files.merge_mcp_json(mcp.path, mcp.before, None)
        settings.after = files.merge_claude_settings(settings.path, settings.before, None, None)
    else:
        config, doc = changes
        config.after = files.merge_codex_config(config.path, config.before, None)
    doc.after = files.merge_block(doc.path, doc.before, None, BEGIN, END)
    revoked, board = False, None
    if not keep_token:
        revoked, board = _revoke(s, name)
    for change in changes:
        if change.action() != "unchanged":
            files.write_atomic(change.path, change.after, private=change.private)
    _report(s, kind, name, board, None, changes, revoked=revoked)


def _revoke(s: Session, name: str) -> tuple[bool, str | None]:
    """Revoke `name`'s token as the human; (False, board) when no such agent is on it."""
    from agentdeck.core.errors import NotFoundError

    deck = s.deck()
    board = deck.get_board(s.board).key
    try:
        member = deck.get_agent(name, board)
    except NotFoundError:
        return False, board
    if member.kind != "agent":
        raise CliError(f"{member.name} is a human on board {board}; connect sets up agents")
    held = deck.whoami(board)
    actor = held.name if held is not None and held.kind == "human" else s.human()
    deck.revoke_credential(member.name, actor=actor, board=board)
    return True, board


def _print(s: Session, name: str, skills: str, role: str) -> None:
    board, name, token, how = _credential(s, name, None, skills, role)
    env = {"AGENTDECK_DB": _database(s), "AGENTDECK_BOARD": board, "AGENTDECK_TOKEN": token}
    entry = {"mcpServers": {files.SERVER: {"command": _executable(), "args": ["mcp"], "env": env}}}
    doc = {"agent": name, "board": board, "token": how, "mcp": entry, "env": env}

    def render() -> None:
        import json

        if how == "rotated":
            say(
                f"{name} was on board {board} already: its token was rotated (the old one stops working)"
            )
        say(f"MCP server entry for {name} (it holds the token: keep it out of git):")
        say(json.dumps(entry, indent=2, ensure_ascii=False))
        say("Environment for the agent's shell:")
        for key, value in env.items():
            say(f"export {key}={shlex.quote(value)}")

    s.emit(doc, render)


def _report(
    s: Session,
    kind: str,
    name: str,
    board: str | None,
    how: str | None,
    changes: list[Change],
    *,
    exclude: Path | None = None,
    revoked: bool = False,
    telemetry: str | None = None,
) -> None:
    """Say what was written where (never the token itself); `telemetry` is the endpoint
    Claude Code's telemetry now goes to."""
    doc: dict[str, Any] = {
        "client": kind,
        "agent": name,
        "board": board,
        "telemetry": telemetry,
        "files": [
            {
                "path": str(c.path),
                "action": c.action(),
                "holds_token": c.private and c.after is not None,
            }
            for c in changes
        ],
    }
    if how is not None:
        doc["token"] = how
        doc["git_exclude"] = str(exclude) if exclude else None
    else:
        doc["revoked"] = revoked

    def render() -> None:
        if how is None:
            say(f"disconnected {kind} agent {name}" + (" (token revoked)" if revoked else ""))
        else:
            said = {"new": "added to", "reused": "kept on", "rotated": "given a new token on"}
            say(f"{name} {said[how]} board {board}; {kind} is connected")
        for c in changes:
            where = os.path.relpath(c.path) if c.path.is_relative_to(Path.cwd()) else c.path
            note = f": {c.what}" if c.after is not None else ""
            if c.private and c.after is not None:
                note += " (readable by you only)"
            say(f"  {c.action()} {safe(str(where), one_line=True)}{note}")
        if exclude is not None:
            say(f"  git will ignore the token's file (rule added to {exclude})")
        if telemetry is not None:
            say(f"  its usage counts itself while `agentdeck otel` runs at {telemetry}")

    s.emit(doc, render)

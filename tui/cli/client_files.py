"""Merging agentdeck's entries into an agent client's own files, leaving everything else alone.

`agentdeck connect` writes four kinds of file, each of which the user (or their client) also
edits: a JSON document (`.mcp.json`, `.claude/settings.local.json`), a markdown file of
instructions (CLAUDE.md, AGENTS.md) and Codex's `config.toml`. Each function here takes a
file's current text (None when there is none) and what agentdeck wants in it (None to take
agentdeck's part out) and returns the new text, or None when nothing else is left and the file
should go. They never guess: a file that does not parse, or that already holds a conflicting
entry agentdeck did not write, is refused in one line and left as it was.

JSON documents are parsed and every key agentdeck does not own is kept in its place; markdown
and TOML keep the user's text byte for byte, with agentdeck's part between marker comments (so
comments and formatting in config.toml survive, which rewriting it through a TOML library
would lose). Writing is atomic (a temporary file renamed over the old), and a file that holds
a token is made readable by its owner only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentdeck.tui.cli.errors import CliError

# Environment keys agentdeck owns in a client's settings.
ENV_KEYS = ("AGENTDECK_DB", "AGENTDECK_BOARD", "AGENTDECK_TOKEN")
# Claude Code's telemetry pointed at `agentdeck otel`, with the agent's token. agentdeck owns
# these only while their headers carry an agentdeck credential (`_our_telemetry`): telemetry
# the user sends to a collector of their own is theirs, and is neither changed nor removed.
TELEMETRY_KEYS = (
    "CLAUDE_CODE_ENABLE_TELEMETRY",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
)
DEFAULT_OTEL_ENDPOINT = "http://127.0.0.1:4318"
# OTEL_EXPORTER_OTLP_HEADERS is a W3C-Baggage-style list whose values are percent-decoded:
# the space after "Bearer" is written %20, as the OTLP exporter specification has it.
_OUR_HEADERS = re.compile(r"Authorization=Bearer%20adk_[A-Za-z0-9_-]+")
SERVER = "agentdeck"  # the MCP server's name in every client's configuration
# A hook command agentdeck wrote: `agentdeck hook NAME`, by name or by a (quoted) path.
_OUR_HOOK = re.compile(r"""(?:\S*|'[^']*')agentdeck'? hook (?:session-start|claude-code-task)""")
TOML_BEGIN = "# agentdeck:begin (written by `agentdeck connect codex`; `--remove` removes it)"
TOML_END = "# agentdeck:end"


def read_text(path: Path) -> str | None:
    """The file's text, or None if there is none; undecodable bytes are refused."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise CliError(f"{path} is a directory, not a file; nothing was changed") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text; fix or move it, nothing was changed") from None


def json_object(path: Path, text: str | None) -> dict[str, Any]:
    """The JSON object in `text` ({} for no file), or a one-line refusal naming the file."""
    if text is None or not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); fix or move it, "
            "nothing was changed"
        ) from None
    except RecursionError:
        raise CliError(f"{path} is nested too deeply to read; nothing was changed") from None
    if not isinstance(doc, dict):
        raise CliError(f"{path} is not a JSON object; fix or move it, nothing was changed")
    return doc


def _section(path: Path, doc: dict[str, Any], key: str) -> dict[str, Any]:
    """`doc[key]`, which must be an object when present ({} when absent)."""
    found = doc.get(key, {})
    if not isinstance(found, dict):
        raise CliError(f"{path}: {key!r} is not a JSON object; fix it, nothing was changed")
    return found


def render_json(doc: Mapping[str, Any]) -> str | None:
    """A JSON document as agentdeck writes it (two-space indent, a final newline), or None
    for an empty one: the file is then removed."""
    if not doc:
        return None
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def merge_mcp_json(path: Path, text: str | None, entry: dict[str, Any] | None) -> str | None:
    """`.mcp.json` with agentdeck's server `entry` under `mcpServers` (or without it, for
    None); every other server and key is kept."""
    doc = json_object(path, text)
    servers = _section(path, doc, "mcpServers")
    if entry is None:
        servers.pop(SERVER, None)
    else:
        servers[SERVER] = entry
    if servers:
        doc["mcpServers"] = servers
    else:
        doc.pop("mcpServers", None)
    return render_json(doc)


def saved_env(path: Path, text: str | None) -> dict[str, str]:
    """The `env` object of a Claude Code settings file (agentdeck's keys among the rest)."""
    env = _section(path, json_object(path, text), "env")
    return {k: v for k, v in env.items() if isinstance(v, str)}


def telemetry_env(endpoint: str, token: str) -> dict[str, str]:
    """The environment that sends an agent's OpenTelemetry (Claude Code's metrics and events,
    or any OTLP SDK's) to `agentdeck otel` at `endpoint`, as the holder of `token`."""
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{token}",
    }


def _our_telemetry(variables: Mapping[str, Any]) -> bool:
    headers = variables.get("OTEL_EXPORTER_OTLP_HEADERS")
    return isinstance(headers, str) and _OUR_HEADERS.fullmatch(headers.strip()) is not None


def merge_claude_settings(
    path: Path,
    text: str | None,
    env: dict[str, str] | None,
    hooks: dict[str, dict[str, Any]] | None,
) -> str | None:
    """A Claude Code settings file with agentdeck's `env` keys and its hook groups (one per
    event), or without them for None. The user's other variables, hooks and settings stay
    as they were; agentdeck's hook group keeps its place in each event's list. Telemetry
    variables (`TELEMETRY_KEYS`) in `env` are refused when the user's own telemetry settings
    are there already; without them in `env`, agentdeck's own are taken out."""
    doc = json_object(path, text)
    variables = _section(path, doc, "env")
    theirs = [k for k in TELEMETRY_KEYS if k in variables]
    owned = ENV_KEYS + (TELEMETRY_KEYS if _our_telemetry(variables) else ())
    if env is not None and any(k in env for k in TELEMETRY_KEYS) and theirs and owned == ENV_KEYS:
        raise CliError(
            f"{path} already sets {theirs[0]} for telemetry of your own; "
            "connect with --no-telemetry to leave it, nothing was changed"
        )
    for key in owned:
        if env is None or key not in env:
            variables.pop(key, None)
    for key, value in (env or {}).items():
        variables[key] = value
    if variables:
        doc["env"] = variables
    else:
        doc.pop("env", None)
    events = _section(path, doc, "hooks")
    for event in ("SessionStart", "PostToolUse"):
        groups = events.get(event, [])
        if not isinstance(groups, list):
            raise CliError(f"{path}: hooks.{event} is not a list; fix it, nothing was changed")
        kept, place = _without_our_hooks(groups)
        if hooks is not None and event in hooks:
            kept.insert(len(kept) if place is None else place, hooks[event])
        if kept:
            events[event] = kept
        else:
            events.pop(event, None)
    if events:
        doc["hooks"] = events
    else:
        doc.pop("hooks", None)
    return render_json(doc)


def _without_our_hooks(groups: list[Any]) -> tuple[list[Any], int | None]:
    """The hook groups with every hook agentdeck wrote taken out (a group left empty goes),
    and where the first of them was."""
    kept: list[Any] = []
    place = None
    for group in groups:
        entries = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(entries, list):
            kept.append(group)
            continue
        others = [e for e in entries if not _is_ours(e)]
        if len(others) == len(entries):
            kept.append(group)
            continue
        if place is None:
            place = len(kept)
        if others:
            kept.append({**group, "hooks": others})
    return kept, place


def _is_ours(hook: Any) -> bool:
    return (
        isinstance(hook, dict)
        and isinstance(hook.get("command"), str)
        and _OUR_HOOK.fullmatch(hook["command"].strip()) is not None
    )


def _marked_span(path: Path, text: str, begin: str, end: str) -> tuple[int, int] | None:
    """Where agentdeck's block (its whole begin line to the end of its end line) is in
    `text`, or None; a lone or misordered marker is refused rather than guessed around."""
    starts = [m.start() for m in re.finditer(rf"(?m)^{re.escape(begin)}.*$", text)]
    ends = [m.end() for m in re.finditer(rf"(?m)^{re.escape(end)}[ \t]*$", text)]
    if not starts and not ends:
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise CliError(
            f"{path} has agentdeck's marker comments out of order or repeated; "
            "fix them by hand, nothing was changed"
        )
    stop = ends[0] + 1 if text[ends[0] : ends[0] + 1] == "\n" else ends[0]
    return starts[0], stop


def merge_block(
    path: Path, text: str | None, block: str | None, begin: str, end: str
) -> str | None:
    """`text` with agentdeck's marked `block` (which starts with `begin` and ends with `end`
    and a newline) in place of the old one, or added at the end after a blank line; with
    None, the block taken out. None when nothing else is left."""
    text = text or ""
    span = _marked_span(path, text, begin.split(" (")[0], end)
    if span is None:
        if block is None:
            return text or None
        return (text.rstrip("\n") + "\n\n" if text.strip() else "") + block
    before, after = text[: span[0]], text[span[1] :]
    if block is not None:
        return before + block + after
    before = before.rstrip("\n") + "\n" if before.strip() else ""
    after = after.lstrip("\n")
    joined = before + ("\n" if before and after else "") + after
    return joined if joined.strip() else None


def _toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CliError(
            f"{path} is not valid TOML ({exc}); fix or move it, nothing was changed"
        ) from None


def codex_token(path: Path, text: str | None) -> str | None:
    """The token agentdeck's MCP server entry in Codex's config.toml carries, if any."""
    if text is None:
        return None
    server = _toml(path, text).get("mcp_servers", {}).get(SERVER, {})
    env = server.get("env", {}) if isinstance(server, dict) else {}
    token = env.get("AGENTDECK_TOKEN") if isinstance(env, dict) else None
    return token if isinstance(token, str) else None


def codex_block(command: str, env: dict[str, str]) -> str:
    """agentdeck's part of Codex's config.toml: its MCP server (with the agent's environment)
    and the same variables for the commands Codex runs in its shell."""

    def string(value: str) -> str:  # a JSON string (ensure_ascii off) is a TOML basic string
        return json.dumps(value, ensure_ascii=False)

    inline = ", ".join(f"{k} = {string(v)}" for k, v in env.items())
    lines = [
        TOML_BEGIN,
        f"[mcp_servers.{SERVER}]",
        f"command = {string(command)}",
        'args = ["mcp"]',
        f"env = {{ {inline} }}",
        "",
        "[shell_environment_policy.set]",
        *(f"{k} = {string(v)}" for k, v in env.items()),
        TOML_END,
    ]
    return "\n".join(lines) + "\n"


def merge_codex_config(path: Path, text: str | None, block: str | None) -> str | None:
    """Codex's config.toml with agentdeck's marked block replaced, added or (None) removed,
    the rest kept byte for byte. The result must parse, and must not fight a server or shell
    variable the user defined themselves."""
    if text is not None:
        _toml(path, text)
    merged = merge_block(path, text, block, TOML_BEGIN, TOML_END)
    if block is None or merged is None:
        return merged
    without = merge_block(path, text, None, TOML_BEGIN, TOML_END) or ""
    theirs = _toml(path, without)
    if SERVER in theirs.get("mcp_servers", {}):
        raise CliError(
            f"{path} already defines [mcp_servers.{SERVER}] (not agentdeck's marked block); "
            "remove it and run again, nothing was changed"
        )
    policy = theirs.get("shell_environment_policy", {})
    if isinstance(policy, dict) and "set" in policy:
        raise CliError(
            f"{path} already sets shell_environment_policy.set; move its variables into "
            "agentdeck's block or remove it, then run again; nothing was changed"
        )
    try:
        tomllib.loads(merged)
    except tomllib.TOMLDecodeError as exc:
        raise CliError(
            f"{path}: adding agentdeck's block would not parse ({exc}); nothing was changed"
        ) from None
    return merged


def write_atomic(path: Path, text: str | None, *, private: bool) -> None:
    """Replace `path` with `text` (or remove it for None) in one rename; `private` files are
    readable by their owner only, others keep their mode (new ones get the umask's). A
    symbolic link is followed: the file it names is replaced, the link stays."""
    target = Path(os.path.realpath(path))
    if text is None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return
    if private:
        mode = 0o600
    else:
        try:
            mode = target.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def keep_out_of_git(project: Path, file: Path) -> Path | None:
    """Make sure git will not commit `file` (which holds a token): refused if git already
    tracks it; added to the repository's own `.git/info/exclude` (never committed) if no
    ignore rule covers it. Where the rule went, or None (already ignored, no repository, or
    no git)."""

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(
                ["git", "-C", str(project), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None

    inside = git("rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    relative = os.path.relpath(file, project)
    tracked = git("ls-files", "--error-unmatch", "--", relative)
    if tracked is not None and tracked.returncode == 0:
        raise CliError(
            f"git tracks {relative}, so a token written there would be committed; "
            f"`git rm --cached {relative}` and run again; nothing was changed"
        )
    ignored = git("check-ignore", "-q", "--no-index", "--", relative)
    if ignored is None or ignored.returncode == 0:
        return None
    top = git("rev-parse", "--show-toplevel")
    where = git("rev-parse", "--git-path", "info/exclude")
    if top is None or where is None or top.returncode or where.returncode:
        return None
    exclude = Path(where.stdout.strip())
    if not exclude.is_absolute():
        exclude = project / exclude
    rule = "/" + os.path.relpath(file, top.stdout.strip())
    current = read_text(exclude) or ""
    addition = f"# agentdeck connect: this file holds an agent's token\n{rule}\n"
    joined = current + ("" if not current or current.endswith("\n") else "\n") + addition
    write_atomic(exclude, joined, private=False)
    return exclude

"""`agentdeck connect`: one command sets an agent up, merging into the user's own files, and
`--remove` takes out exactly that. Run through the real `agentdeck` program, with HOME,
CODEX_HOME and XDG_CONFIG_HOME in this test's temporary directory."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.tui.cli.instructions import AGENT_INSTRUCTIONS
from tests.cli.conftest import AGENTDECK, sqlite_only

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    found = tmp_path / "project"
    found.mkdir()
    return found


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory of this test's own (Codex's config goes under it)."""
    found = tmp_path / "home"
    (found / ".codex").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(found))
    monkeypatch.setenv("CODEX_HOME", str(found / ".codex"))
    return found


@pytest.fixture
def run(web: str, project: Path, home: Path) -> Run:
    """`agentdeck ARGS...` as a real process in the project directory, as the human ann."""

    def call(*args: str, env: dict[str, str] | None = None, cwd: Path = project):
        return subprocess.run(
            [str(AGENTDECK), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "PATH": on_path, **(env or {})},
            timeout=60,
        )

    on_path = f"{AGENTDECK.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return call


def settings_of(project: Path) -> dict:
    return json.loads((project / ".claude" / "settings.local.json").read_text())


def token_works(db: str, token: str, name: str) -> bool:
    with Deck.open(db) as deck:
        deck.present(token)
        held = deck.whoami("WEB")
    return held is not None and held.name == name


def snapshot(*paths: Path) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def claude_files(project: Path) -> list[Path]:
    return [
        project / ".mcp.json",
        project / ".claude" / "settings.local.json",
        project / "CLAUDE.md",
    ]


@sqlite_only
def test_claude_code_adds_the_agent_and_keeps_its_token_out_of_shared_files(
    run: Run, project: Path, web: str
) -> None:
    done = run("connect", "claude-code", "--agent", "tester", "--skills", "python", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["token"] == "new" and report["agent"] == "tester"
    token = settings_of(project)["env"]["AGENTDECK_TOKEN"]
    assert token.startswith("adk_") and token not in done.stdout  # --json never shows it
    assert token_works(web, token, "tester")
    assert token not in (project / ".mcp.json").read_text()
    assert token not in (project / "CLAUDE.md").read_text()
    server = json.loads((project / ".mcp.json").read_text())["mcpServers"]["agentdeck"]
    assert server["command"] == "agentdeck" and server["args"] == ["mcp"]
    assert server["env"]["AGENTDECK_TOKEN"] == "${AGENTDECK_TOKEN}"
    mode = (project / ".claude" / "settings.local.json").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    env = settings_of(project)["env"]
    assert env["AGENTDECK_BOARD"] == "WEB"
    assert Path(env["AGENTDECK_DB"]) == Path(web).resolve()
    # Claude Code's own telemetry goes to `agentdeck otel`, with the same token
    assert {k: v for k, v in env.items() if not k.startswith("AGENTDECK_")} == {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{token}",
    }
    assert report["telemetry"] == "http://127.0.0.1:4318"
    hooks = settings_of(project)["hooks"]
    assert hooks["SessionStart"][0]["hooks"][0]["command"].endswith("hook session-start")
    assert hooks["PostToolUse"][0]["matcher"] == "TaskCreate|TaskUpdate|TodoWrite"
    assert AGENT_INSTRUCTIONS in (project / "CLAUDE.md").read_text()
    with Deck.open(web) as deck:
        assert deck.get_agent("tester", "WEB").skills == ("python",)


@sqlite_only
def test_running_it_twice_leaves_the_same_bytes_and_one_agent(
    run: Run, project: Path, web: str
) -> None:
    assert run("connect", "claude-code", "--agent", "tester").returncode == 0
    first = snapshot(*claude_files(project))
    again = run("connect", "claude-code", "--agent", "tester", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["token"] == "reused"
    assert {f["action"] for f in json.loads(again.stdout)["files"]} == {"unchanged"}
    assert snapshot(*claude_files(project)) == first
    with Deck.open(web) as deck:
        assert [a.name for a in deck.list_agents("WEB")].count("tester") == 1


@sqlite_only
def test_an_existing_agent_without_a_working_token_gets_a_rotated_one(
    run: Run, project: Path, web: str, tokens: dict[str, str]
) -> None:
    done = run("connect", "claude-code", "--agent", "coder", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["token"] == "rotated"
    new = settings_of(project)["env"]["AGENTDECK_TOKEN"]
    assert token_works(web, new, "coder")
    assert not token_works(web, tokens["coder"], "coder")  # the old one stopped at once


@sqlite_only
def test_an_agent_cannot_connect_itself_or_another(
    run: Run, project: Path, web: str, tokens: dict[str, str], unchanged
) -> None:
    check = unchanged()
    for who in ("coder", "planner"):  # planner is the lead
        refused = run(
            "connect", "claude-code", "--agent", "sneaky", env={"AGENTDECK_TOKEN": tokens[who]}
        )
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1 and "connect runs as a human" in refused.stderr
    assert list(project.iterdir()) == []
    check()
    with Deck.open(web) as deck:
        assert "sneaky" not in [a.name for a in deck.list_agents("WEB")]


@sqlite_only
def test_without_a_human_credential_it_is_refused(
    run: Run, project: Path, tmp_path: Path, unchanged
) -> None:
    check = unchanged()
    refused = run("connect", "claude-code", env={"XDG_CONFIG_HOME": str(tmp_path / "nobody")})
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1
    assert list(project.iterdir()) == []
    check()


@sqlite_only
def test_it_merges_into_the_users_files_and_remove_takes_out_only_its_own(
    run: Run, project: Path, web: str
) -> None:
    (project / ".claude").mkdir()
    settings = {
        "permissions": {"allow": ["Bash(npm test)"]},
        "env": {"MY_VAR": "1"},
        "hooks": {
            "PostToolUse": [
                {
                    "matcher": "Write|Edit",
                    "hooks": [{"type": "command", "command": "prettier --write"}],
                }
            ],
            "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}],
        },
        "model": "opus",
    }
    mcp = {"mcpServers": {"github": {"command": "gh-mcp", "env": {"X": "${X}"}}}, "extra": True}
    (project / ".claude" / "settings.local.json").write_text(json.dumps(settings))
    (project / ".mcp.json").write_text(json.dumps(mcp))
    (project / "CLAUDE.md").write_text("# My project\n\nUse tabs.\n")
    assert run("connect", "claude-code").returncode == 0
    merged = settings_of(project)
    assert merged["permissions"] == settings["permissions"] and merged["model"] == "opus"
    assert merged["env"]["MY_VAR"] == "1" and "AGENTDECK_TOKEN" in merged["env"]
    assert merged["hooks"]["PostToolUse"][0] == settings["hooks"]["PostToolUse"][0]
    assert len(merged["hooks"]["PostToolUse"]) == 2
    assert merged["hooks"]["Stop"] == settings["hooks"]["Stop"]
    assert set(json.loads((project / ".mcp.json").read_text())["mcpServers"]) == {
        "github",
        "agentdeck",
    }
    assert (
        (project / "CLAUDE.md")
        .read_text()
        .startswith("# My project\n\nUse tabs.\n\n<!-- agentdeck:begin")
    )
    token = merged["env"]["AGENTDECK_TOKEN"]

    removed = run("connect", "claude-code", "--remove", "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["revoked"] is True
    assert settings_of(project) == settings
    assert json.loads((project / ".mcp.json").read_text()) == mcp
    assert (project / "CLAUDE.md").read_text() == "# My project\n\nUse tabs.\n"
    assert not token_works(web, token, "claude")


@sqlite_only
def test_telemetry_can_be_moved_left_out_and_is_taken_out_again(run: Run, project: Path) -> None:
    done = run("connect", "claude-code", "--otel-endpoint", "http://10.0.0.5:4318/")
    assert done.returncode == 0, done.stderr
    env = settings_of(project)["env"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://10.0.0.5:4318"
    assert "agentdeck otel" in done.stdout
    assert run("connect", "claude-code", "--no-telemetry").returncode == 0
    env = settings_of(project)["env"]
    assert not any(k.startswith(("OTEL_", "CLAUDE_CODE_")) for k in env)
    assert "AGENTDECK_TOKEN" in env
    assert run("connect", "claude-code").returncode == 0
    assert "OTEL_EXPORTER_OTLP_HEADERS" in settings_of(project)["env"]
    assert run("connect", "claude-code", "--remove").returncode == 0
    assert not (project / ".claude" / "settings.local.json").exists()


@sqlite_only
def test_the_users_own_telemetry_is_neither_overwritten_nor_removed(
    run: Run, project: Path
) -> None:
    (project / ".claude").mkdir()
    theirs = {
        "env": {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=secret",
        }
    }
    path = project / ".claude" / "settings.local.json"
    path.write_text(json.dumps(theirs))
    before = snapshot(*claude_files(project))
    refused = run("connect", "claude-code")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "--no-telemetry" in refused.stderr and snapshot(*claude_files(project)) == before
    assert run("connect", "claude-code", "--no-telemetry").returncode == 0
    assert settings_of(project)["env"]["OTEL_EXPORTER_OTLP_HEADERS"] == "x-api-key=secret"
    assert run("connect", "claude-code", "--remove").returncode == 0
    assert settings_of(project) == theirs


@sqlite_only
def test_remove_can_keep_the_token_and_deletes_files_it_alone_made(
    run: Run, project: Path, web: str
) -> None:
    assert run("connect", "claude-code").returncode == 0
    token = settings_of(project)["env"]["AGENTDECK_TOKEN"]
    assert run("connect", "claude-code", "--remove", "--keep-token").returncode == 0
    assert all(not p.exists() for p in claude_files(project))
    assert token_works(web, token, "claude")


@sqlite_only
@pytest.mark.parametrize(
    "damaged",
    ['{"env": {"A": 1},', "[1, 2]", '{"env": "not an object"}', '{"hooks": {"SessionStart": {}}}'],
)
def test_a_damaged_settings_file_is_refused_and_left_alone(
    run: Run, project: Path, web: str, damaged: str, unchanged
) -> None:
    (project / ".claude").mkdir()
    path = project / ".claude" / "settings.local.json"
    path.write_text(damaged)
    check = unchanged()
    refused = run("connect", "claude-code", "--agent", "tester")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "settings.local.json" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert path.read_text() == damaged
    assert not (project / ".mcp.json").exists() and not (project / "CLAUDE.md").exists()
    check()
    with Deck.open(web) as deck:
        assert "tester" not in [a.name for a in deck.list_agents("WEB")]


@sqlite_only
def test_git_is_told_to_ignore_the_token_file_and_a_tracked_one_is_refused(
    run: Run, project: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    assert run("connect", "claude-code").returncode == 0
    ignored = subprocess.run(
        ["git", "-C", str(project), "check-ignore", "-q", ".claude/settings.local.json"]
    )
    assert ignored.returncode == 0
    status = subprocess.run(
        ["git", "-C", str(project), "status", "--porcelain"], capture_output=True, text=True
    ).stdout
    assert "settings.local.json" not in status and ".mcp.json" in status

    subprocess.run(
        ["git", "-C", str(project), "add", "-f", ".claude/settings.local.json"], check=True
    )
    refused = run("connect", "claude-code", "--agent", "other")
    assert refused.returncode == 1 and "git tracks" in refused.stderr


@sqlite_only
def test_codex_writes_its_own_config_and_keeps_the_users_toml_byte_for_byte(
    run: Run, project: Path, home: Path, web: str
) -> None:
    config = home / ".codex" / "config.toml"
    original = (
        '# my settings\nmodel = "o3"  # the best\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\n'
        '\n[shell_environment_policy]\ninherit = "core"\n'
    )
    config.write_text(original)
    done = run("connect", "codex", "--json")
    assert done.returncode == 0, done.stderr
    text = config.read_text()
    assert text.startswith(original)
    parsed = tomllib.loads(text)
    token = parsed["mcp_servers"]["agentdeck"]["env"]["AGENTDECK_TOKEN"]
    assert token_works(web, token, "codex")
    assert parsed["mcp_servers"]["docs"] == {"command": "docs-mcp"}
    assert parsed["shell_environment_policy"]["set"]["AGENTDECK_TOKEN"] == token
    assert parsed["shell_environment_policy"]["inherit"] == "core"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert AGENT_INSTRUCTIONS in (project / "AGENTS.md").read_text()
    assert token not in (project / "AGENTS.md").read_text()

    before = snapshot(config, project / "AGENTS.md")
    assert run("connect", "codex").returncode == 0
    assert snapshot(config, project / "AGENTS.md") == before
    assert run("connect", "codex", "--remove").returncode == 0
    assert config.read_text() == original
    assert not (project / "AGENTS.md").exists()


@sqlite_only
@pytest.mark.parametrize(
    "theirs",
    [
        "model = [unclosed\n",
        '[mcp_servers.agentdeck]\ncommand = "old"\n',
        '[shell_environment_policy]\nset = { A = "1" }\n',
    ],
)
def test_codex_refuses_a_config_it_cannot_merge_into(
    run: Run, home: Path, theirs: str, unchanged
) -> None:
    config = home / ".codex" / "config.toml"
    config.write_text(theirs)
    check = unchanged()
    refused = run("connect", "codex")
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1 and "config.toml" in refused.stderr
    assert config.read_text() == theirs
    check()


@sqlite_only
def test_print_writes_nothing_and_shows_the_entry_with_its_token(
    run: Run, project: Path, home: Path, web: str
) -> None:
    before = sorted(p for p in home.rglob("*"))
    done = run("connect", "--print", "--agent", "helper", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    token = doc["env"]["AGENTDECK_TOKEN"]
    assert doc["mcp"]["mcpServers"]["agentdeck"]["env"]["AGENTDECK_TOKEN"] == token
    assert token_works(web, token, "helper")
    assert list(project.iterdir()) == [] and sorted(home.rglob("*")) == before
    text = run("connect", "--print", "--agent", "helper")
    assert "export AGENTDECK_TOKEN=adk_" in text.stdout and "rotated" in text.stdout


@sqlite_only
@pytest.mark.parametrize(
    "args",
    [
        ("connect",),
        ("connect", "vim"),
        ("connect", "codex", "--print"),
        ("connect", "--print", "--remove"),
        ("connect", "codex", "--otel-endpoint", "http://127.0.0.1:9"),
        ("connect", "claude-code", "--otel-endpoint", "127.0.0.1:4318"),
    ],
)
def test_usage_mistakes_are_one_line(run: Run, args: tuple[str, ...]) -> None:
    refused = run(*args)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1


def instruction_commands() -> list[str]:
    return re.findall(r"`(agentdeck [^`]+)`", AGENT_INSTRUCTIONS)


def test_readme_and_cli_reference_show_the_block_connect_writes() -> None:
    for doc in ("README.md", "tui/CLI.md"):
        assert f"```markdown\n{AGENT_INSTRUCTIONS}```" in (ROOT / doc).read_text(), doc


def test_the_readme_block_works_verbatim_on_a_fresh_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A human makes a board and connects Claude Code; then every command line of the
    block, run as written (KEY, N, USD filled in) with only the agent's environment,
    exits 0: each line once, and each way of finishing on a task claimed for it."""
    project, home = tmp_path / "fresh", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    for name in ("AGENTDECK_DB", "AGENTDECK_AS", "AGENTDECK_BOARD", "AGENTDECK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    path = f"{AGENTDECK.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    human = {**os.environ, "HOME": str(home), "PATH": path}

    def human_run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(AGENTDECK), *args],
            capture_output=True,
            text=True,
            cwd=project,
            env=human,
            timeout=60,
        )
        assert done.returncode == 0, (args, done.stderr)
        return done

    human_run("board", "create", "APP", "An app", "--agents", "token")
    human_run("connect", "claude-code", "--agent", "coder")
    for n in range(1, 6):
        human_run("task", "add", f"Task {n}")
    agent_env = {
        "PATH": path,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(tmp_path / "agent-config"),  # no human credential in sight
        "AGENTDECK_NO_SERVER": "1",  # no resident server outliving the test (test_resident's)
        **settings_of(project)["env"],
    }
    key = None

    def agent_run(line: str) -> subprocess.CompletedProcess[str]:
        words = [
            w.replace("KEY", key or "").replace("action|tool_call|decision|observation", "decision")
            for w in shlex.split(line)
        ]
        words = ["0.25" if w == "USD" else "100" if w == "N" else w for w in words]
        return subprocess.run(
            [str(AGENTDECK), *words[1:]],
            capture_output=True,
            text=True,
            cwd=project,
            env=agent_env,
            timeout=60,
        )

    commands = instruction_commands()
    claim, finishes = (
        commands[0],
        [c for c in commands if c.split()[1] in ("done", "submit", "escalate", "fail")],
    )
    assert claim == "agentdeck claim --wait 600 --json" and len(finishes) == 4
    # Every line once on the first claimed task; then each way of finishing on a task of its own.
    for number, finish in enumerate(finishes):
        claimed = agent_run(claim)
        assert claimed.returncode == 0, claimed.stderr
        key = json.loads(claimed.stdout)["task"]["key"]
        for line in commands if number == 0 else ():
            if line == claim or line in finishes:
                continue
            done = agent_run(line)
            assert done.returncode == 0, (line, done.stderr)
        finished = agent_run(finish)
        assert finished.returncode == 0, (finish, finished.stderr)

"""The MCP Inspector's CLI (the protocol's own debugging client, in Node) against `agentdeck mcp`:
a second, independent client that must see the tools, resources, templates and prompt.

`.ci/run` installs a pinned Inspector when Node and npm are there and names its executable in
AGENTDECK_TEST_INSPECTOR; without it these tests skip (locally:
`npm install --prefix /tmp/inspector @modelcontextprotocol/inspector@2.12.0` and point the
variable at `/tmp/inspector/node_modules/.bin/mcp-inspector`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck
from tests.mcp.conftest import AGENTDECK, REPO

INSPECTOR_ENV = "AGENTDECK_TEST_INSPECTOR"


@pytest.fixture(scope="module")
def inspector() -> str:
    path = os.environ.get(INSPECTOR_ENV, "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"no MCP Inspector CLI ({INSPECTOR_ENV} unset or not executable)")
    if shutil.which("node") is None:
        pytest.skip("no node on PATH for the MCP Inspector CLI")
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inspector") / "board.db"
    with Deck.open(path, create=True) as deck:
        deck.create_board("INS", "Inspected", actor="ann", goal="Be inspected", agents="named")
        deck.add_agent("gen", actor="ann")
        deck.add_task('Title with "quotes" and \x1b[31m', actor="ann")
    return path


def run(inspector: str, db: Path, method: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`mcp-inspector --cli agentdeck mcp ... --method METHOD`, its catalog kept in tmp."""
    env = {**os.environ, "MCP_CATALOG_PATH": str(db.parent / "catalog.json")}
    command = [inspector, "--cli", AGENTDECK, "mcp", "--db", str(db), "--as", "gen"]
    return subprocess.run(
        [*command, "--method", method, *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def answer(inspector: str, db: Path, method: str, *extra: str) -> Any:
    ran = run(inspector, db, method, *extra)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_the_inspector_lists_tools_resources_templates_and_prompts(
    inspector: str, db: Path
) -> None:
    tools = answer(inspector, db, "tools/list")["tools"]
    assert {"claim", "log", "done", "inbox"} <= {t["name"] for t in tools}
    resources = answer(inspector, db, "resources/list")["resources"]
    assert [r["uri"] for r in resources] == ["agentdeck://board/INS", "agentdeck://inbox/INS"]
    templates = answer(inspector, db, "resources/templates/list")["resourceTemplates"]
    assert "agentdeck://task/{key}" in {t["uriTemplate"] for t in templates}
    prompts = answer(inspector, db, "prompts/list")["prompts"]
    assert [p["name"] for p in prompts] == ["work-the-queue"]


def test_the_inspector_reads_a_task_and_gets_the_prompt(inspector: str, db: Path) -> None:
    [content] = answer(inspector, db, "resources/read", "--uri", "agentdeck://task/INS-1")[
        "contents"
    ]
    assert content["mimeType"] == "application/json"
    assert json.loads(content["text"])["task"]["title"] == 'Title with "quotes" and \x1b[31m'
    got = answer(
        inspector,
        db,
        "prompts/get",
        "--prompt-name",
        "work-the-queue",
        "--prompt-args",
        "board=INS",
    )
    assert 'goal: "Be inspected"' in got["messages"][0]["content"]["text"]


def test_the_inspector_shows_an_unknown_resource_as_one_line(inspector: str, db: Path) -> None:
    ran = run(inspector, db, "resources/read", "--uri", "agentdeck://task/INS-404")
    assert ran.returncode != 0
    assert "no task INS-404" in ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr

"""A real `mcp` client session talking over stdio to the agentdeck MCP server in a subprocess.

One server process serves a whole test module; tests call it synchronously through an anyio
blocking portal, and each test works on its own board so the tests stay independent.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import ClientSession, StdioServerParameters, stdio_client, types

from agentdeck.core import Deck

REPO = Path(__file__).resolve().parents[2]
AGENT = "gen"  # the server's --as agent


AGENTDECK = str(Path(sys.executable).with_name("agentdeck"))  # the entry point in this venv


def server_command(db: Path, actor: str = AGENT) -> StdioServerParameters:
    """Spawn `agentdeck mcp` the way an agent's MCP configuration does."""
    return StdioServerParameters(
        command=AGENTDECK,
        args=["mcp", "--db", str(db), "--as", actor],
        env={"PYTHONPATH": str(REPO), "AGENTDECK_DB": "", "AGENTDECK_AS": ""},
        cwd=str(REPO),
    )


@asynccontextmanager
async def connected(params: StdioServerParameters, errlog: Path) -> AsyncIterator[ClientSession]:
    """An initialised client session on a freshly spawned server; its stderr goes to `errlog`."""
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as streams, ClientSession(*streams) as session:
            await session.initialize()
            yield session


def text_of(result: types.CallToolResult) -> str:
    """The text of a result's one content block."""
    [content] = result.content
    assert isinstance(content, types.TextContent)
    return content.text


@dataclass
class Mcp:
    """A synchronous face on a live MCP client session, plus the deck behind the server."""

    portal: BlockingPortal
    session: ClientSession
    deck: Deck
    boards: Iterator[int]

    def raw(self, tool: str, arguments: dict[str, Any] | None = None) -> types.CallToolResult:
        result = self.portal.call(self.session.call_tool, tool, arguments)
        assert isinstance(result, types.CallToolResult)
        return result

    def ok(self, tool: str, **arguments: Any) -> Any:
        """Call a tool that must succeed; its structured answer (the client has checked it
        against the tool's output schema). Its text is a short rendering, one line."""
        result = self.raw(tool, arguments)
        [content] = result.content
        assert isinstance(content, types.TextContent)
        assert not result.is_error, content.text
        assert content.text and "\n" not in content.text, content.text
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    def error(self, tool: str, arguments: dict[str, Any] | None = None) -> str:
        """Call a tool that must fail; its one-line error message."""
        result = self.raw(tool, arguments)
        assert result.is_error, f"{tool} unexpectedly succeeded"
        [content] = result.content
        assert isinstance(content, types.TextContent)
        assert "\n" not in content.text and "Traceback" not in content.text
        return content.text

    def new_board(self) -> str:
        """A fresh board with human `ann` and agents `gen` (no skills) and `be` (backend)."""
        key = f"B{next(self.boards)}"
        self.deck.create_board(key, f"Board {key}", actor="ann", lead="sup")
        self.deck.add_agent(AGENT, actor="ann", board=key)
        self.deck.add_agent("be", actor="ann", board=key, skills=["backend"])
        return key


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    home = tmp_path_factory.mktemp("mcp")
    db, errlog = home / "board.db", home / "server.log"
    with (
        Deck.open(db, create=True) as deck,
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connected(server_command(db), errlog)) as session,
    ):
        client = Mcp(portal, session, deck, itertools.count(1))
        client.new_board()  # B1, for calls that need some board to exist
        yield client
    assert "Traceback" not in errlog.read_text(), "the server logged a crash"

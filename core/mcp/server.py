"""agentdeck's MCP server: the agent tools of `agentdeck.core.mcp.tools`, served over stdio with the
official `mcp` SDK (2.x).

`mcp` is an optional extra, so only `agentdeck mcp` (or `python -m agentdeck.core.mcp.server`) imports
this module; nothing else in `core` does. Deck calls block on SQLite, so each one runs in a
worker thread and a slow write never stalls the protocol loop.
"""

from __future__ import annotations

import argparse
import functools
import sys
from importlib import metadata
from typing import Any

import anyio
import anyio.to_thread
from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from agentdeck.core import credentials, identity, limits, names
from agentdeck.core.deck import Deck
from agentdeck.core.errors import DeckError, PermissionDeniedError, ValidationError
from agentdeck.core.mcp.tools import BY_NAME, TOOLS, call

INSTRUCTIONS = (
    "agentdeck task board. Work loop: claim, doing, log steps, usage, then done "
    "(or submit, fail, escalate); heartbeat while working. Every tool acts as this "
    "server's own agent (its AGENTDECK_TOKEN); board defaults to the only board."
)
# Deck calls in flight at once; SQLite serialises writers anyway, so a few threads suffice.
WORKER_THREADS = 8


def _version() -> str:
    try:
        return metadata.version("agentdeck")
    except metadata.PackageNotFoundError:
        return "0"


def build_server(deck: Deck, actor: str) -> Server[Any]:
    """An MCP server whose tools act on `deck` as `actor`, and only as `actor`."""
    listing = [
        types.Tool(
            name=t.name,
            title=t.title,
            description=t.description,
            input_schema=t.input_schema,
            output_schema=t.output_schema,
            annotations=types.ToolAnnotations.model_validate(t.annotations),
        )
        for t in TOOLS
    ]
    workers = anyio.CapacityLimiter(WORKER_THREADS)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listing)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        if params.name not in BY_NAME:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name[:60]!r}")
        run = functools.partial(call, deck, actor, params.name, params.arguments)
        outcome = await anyio.to_thread.run_sync(run, limiter=workers)
        return types.CallToolResult(
            content=[types.TextContent(text=outcome.text)],
            structured_content=outcome.data,
            is_error=outcome.error,
        )

    return Server(
        "agentdeck",
        version=_version(),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve(deck: Deck, actor: str) -> None:
    """Serve the tools on stdin/stdout until the client closes the pipe."""
    server = build_server(deck, actor)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main(db: str | None, actor: str | None) -> None:
    """Open the deck at `db` (default: `AGENTDECK_DB`, then the nearest `.agentdeck/board.db`)
    and serve the agent tools over stdio, acting only as the holder of `AGENTDECK_TOKEN`
    (or, on a board in named mode, as `actor`, default `AGENTDECK_AS`). A human's credential
    file is never read: an MCP server is an agent's.

    Raises `DeckError` (one line) when the database cannot be opened, the token proves
    nobody, or `actor` is not the token's holder.
    """
    with Deck.open(db) as deck:
        for warning in deck.warnings:  # stdout is the protocol; hosts log stderr
            sys.stderr.write(f"agentdeck mcp: warning: {warning}\n")
        anyio.run(serve, deck, acting_agent(deck, actor))


def acting_agent(deck: Deck, given: str | None) -> str:
    """Who this server acts as: the holder of `AGENTDECK_TOKEN`, which `given` (if any) must
    name; without a token, the name given (only a board in named mode accepts it)."""
    given = identity.named_actor(given)
    token = identity.from_environment(identity.ENV_TOKEN)
    if token:
        deck.present(credentials.check_token(token, identity.ENV_TOKEN))
        held = deck.whoami()
        if held is None:
            raise PermissionDeniedError(f"{identity.ENV_TOKEN} is no member's credential here")
        if given and names.fold(given) != names.fold(held.name):
            raise PermissionDeniedError(
                f"{identity.ENV_TOKEN} is {held.name}'s credential; it cannot act as {given}"
            )
        return held.name
    if not given:
        raise ValidationError(
            f"say who this server acts for: set {identity.ENV_TOKEN} (or, on a board in named "
            f"mode, pass --as NAME)"
        )
    return limits.name(given)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m agentdeck.core.mcp.server",
        description="Serve agentdeck's agent tools over stdio.",
    )
    parser.add_argument("--db", help="database path or URL (default: AGENTDECK_DB)")
    parser.add_argument("--as", dest="actor", help="acting agent (default: AGENTDECK_AS)")
    options = parser.parse_args()
    try:
        main(options.db, options.actor)
    except DeckError as exc:
        print(f"agentdeck mcp: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)

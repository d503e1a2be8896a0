"""agentdeck's MCP server: the agent tools of `agentdeck.core.mcp.tools`, served over stdio with the
official `mcp` SDK (2.x).

`mcp` is an optional extra, so only `agentdeck mcp` (or `python -m agentdeck.core.mcp.server`) imports
this module; nothing else in `core` does. Deck calls block on SQLite, so each one runs in a
worker thread and a slow write never stalls the protocol loop.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.exceptions import MCPError

from agentdeck.core import credentials, identity, limits, names
from agentdeck.core.deck import Deck
from agentdeck.core.errors import DeckError, PermissionDeniedError, ValidationError
from agentdeck.core.feed import ChangeFeed
from agentdeck.core.mcp import prompts, resources
from agentdeck.core.mcp.tools import BY_NAME, TOOLS, call
from agentdeck.core.mcp.watch import Subscriptions

INSTRUCTIONS = (
    "agentdeck task board. Work loop: claim, doing, log steps, usage, then done "
    "(or submit, fail, escalate); heartbeat while working. Every tool acts as this "
    "server's own agent (its AGENTDECK_TOKEN); board defaults to the only board. "
    "Resources (JSON; subscribe to hear of changes): agentdeck://board/KEY (summary), "
    "agentdeck://task/KEY (task and newest log), agentdeck://inbox/KEY (unread, not marked "
    "read). Prompt work-the-queue explains this board's loop."
)
log = logging.getLogger("agentdeck.mcp")
# Tools whose `wait` argument may hold a call open.
WAITING = frozenset({"claim", "inbox"})
# Deck calls in flight at once; SQLite serialises writers anyway, so a few threads suffice.
WORKER_THREADS = 8
T = TypeVar("T")


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
        # A call that may wait gets a feed of its own: if the client cancels the call (or
        # times it out), closing the feed ends the wait in the worker thread at once, rather
        # than leaving it to take a task nobody will receive.
        arguments = params.arguments
        waits = params.name in WAITING and isinstance(arguments, dict) and arguments.get("wait")
        feed = await anyio.to_thread.run_sync(ChangeFeed, deck) if waits else None
        run = functools.partial(call, deck, actor, params.name, arguments, feed)
        try:
            outcome = await anyio.to_thread.run_sync(
                run, limiter=workers, abandon_on_cancel=feed is not None
            )
        finally:
            if feed is not None:
                feed.close()
        return types.CallToolResult(
            content=[types.TextContent(text=outcome.text)],
            structured_content=outcome.data,
            is_error=outcome.error,
        )

    bus = InMemorySubscriptionBus()
    streams = ListenHandler(bus)
    subscriptions = Subscriptions(deck, actor, bus)

    async def in_thread(fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread. A `DeckError` becomes a one-line error carrying its
        exit code: invalid params for exit code 1 (the spec's code for an unknown resource,
        prompt or argument), an internal error otherwise (a busy database, a refusal)."""
        try:
            return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=workers)
        except DeckError as exc:
            code = types.INVALID_PARAMS if exc.exit_code == 1 else types.INTERNAL_ERROR
            raise MCPError(code, exc.message, {"exit_code": exc.exit_code}) from None
        except Exception as exc:  # a bug in one request must not take the server down
            log.exception("%s failed", getattr(fn, "__name__", "a request"))
            detail = " ".join(str(exc).split())[:200]
            raise MCPError(
                types.INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {detail}"
            ) from None

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        listed = await in_thread(resources.listing, deck, actor)
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=r.uri,
                    name=r.name,
                    title=r.title,
                    description=r.description,
                    mime_type=resources.MIME,
                )
                for r in listed
            ]
        )

    async def list_resource_templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=t.uri_template,
                    name=t.name,
                    title=t.title,
                    description=t.description,
                    mime_type=resources.MIME,
                )
                for t in resources.TEMPLATES
            ]
        )

    def read_json(uri: str) -> str:
        target = resources.resolve(deck, resources.parse(uri))
        return resources.dumps(resources.read(deck, actor, target))

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        text = await in_thread(read_json, params.uri)
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=params.uri, mime_type=resources.MIME, text=text)
            ]
        )

    def resolve_from_now(uri: str) -> tuple[resources.Target, int]:
        mark = deck.max_event_id()  # before the check: nothing committed after it is missed
        return resources.resolve(deck, resources.parse(uri)), mark

    async def subscribe(
        ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        target, mark = await in_thread(resolve_from_now, params.uri)
        subscriptions.add(ctx.session, params.uri, target, mark)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        subscriptions.remove(params.uri)
        return types.EmptyResult()

    def resolve_all(uris: list[str]) -> tuple[dict[str, resources.Target], int]:
        mark = deck.max_event_id()
        return {uri: resources.resolve(deck, resources.parse(uri)) for uri in uris}, mark

    async def listen(
        ctx: ServerRequestContext[Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """A 2026-07-28 listen stream: its resource URIs are watched while it is open."""
        uris = list(dict.fromkeys(params.notifications.resource_subscriptions or ()))
        targets, mark = await in_thread(resolve_all, uris)
        subscriptions.listen(targets, mark)
        try:
            return await streams(ctx, params)
        finally:
            subscriptions.unlisten(targets)

    async def list_prompts(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    title=p.title,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(
                            name=a.name, description=a.description, required=a.required
                        )
                        for a in p.arguments
                    ],
                )
                for p in prompts.PROMPTS
            ]
        )

    async def get_prompt(
        ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        prompt = prompts.BY_NAME_PROMPTS.get(params.name)
        if prompt is None:
            known = ", ".join(p.name for p in prompts.PROMPTS)
            raise MCPError(
                types.INVALID_PARAMS, f"unknown prompt {params.name[:60]!r}; prompts: {known}"
            )
        arguments = dict(params.arguments or {})
        unknown = sorted(set(arguments) - {a.name for a in prompt.arguments})
        if unknown:
            raise MCPError(
                types.INVALID_PARAMS, f"{prompt.name}: unknown argument {unknown[0][:60]!r}"
            )
        text = await in_thread(prompts.work_the_queue, deck, actor, arguments.get("board") or None)
        return types.GetPromptResult(
            description=prompt.description,
            messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
        )

    @asynccontextmanager
    async def pumping(_: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        """Run the subscriptions' pump for as long as the server runs."""
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(subscriptions.run)
            try:
                yield {}
            finally:
                tasks.cancel_scope.cancel()

    return Server(
        "agentdeck",
        version=_version(),
        instructions=INSTRUCTIONS,
        lifespan=pumping,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_subscriptions_listen=listen,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
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

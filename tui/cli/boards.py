"""Setting up: `agentdeck board create|list`, `agent add|list`, `budget set|show`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from agentdeck.core import identity
from agentdeck.tui.cli.context import (
    ActorOption,
    BoardOption,
    DbOption,
    Session,
    before_command,
    deck_command,
    split_list,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import amount, safe, say
from agentdeck.tui.cli.pages import (
    DEFAULT_LIMIT,
    AllOption,
    CursorOption,
    LimitOption,
    emit_page,
    more,
    start_of,
    stream,
)

if TYPE_CHECKING:
    from agentdeck.core.models import Agent, Board

# What each agents mode means, as the CLI says it.
MODE_SAYS = {
    "named": "agents may act by --as NAME alone (board agents token to require tokens)",
    "token": "every agent presents its token (AGENTDECK_TOKEN)",
}

board_app = typer.Typer(
    name="board",
    invoke_without_command=True,
    help="Create and list boards; with no subcommand, open the board in the console.",
    epilog="Example: agentdeck board create WEB 'Company website' --goal 'Launch by May'",
)
agent_app = typer.Typer(
    name="agent",
    no_args_is_help=True,
    help="Add agents and humans to a board's team, and list the team.",
    epilog="Example: agentdeck agent add coder --skills python,sql --role 'backend dev'",
)
budget_app = typer.Typer(
    name="budget",
    no_args_is_help=True,
    help="Limit tokens, cost, CPU or GPU hours per board, agent or task, and show use.",
    epilog="Example: agentdeck budget set cost_usd --hard 25 --soft 20",
)


@board_app.callback()
def board_console(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    board: BoardOption = None,
) -> None:
    """Open the board console when `agentdeck board` is given no subcommand."""
    before_command.db = db or before_command.db
    before_command.actor = actor or before_command.actor
    before_command.board = board or before_command.board
    if ctx.invoked_subcommand is None:
        from agentdeck.tui.cli.launch import open_console

        open_console(db, actor, board)


@board_app.command("create")
@deck_command(board=False)
def create_board(
    s: Session,
    key: Annotated[
        str,
        typer.Argument(metavar="KEY", help="Short board key, like WEB; task keys become WEB-1."),
    ],
    name: Annotated[str, typer.Argument(metavar="NAME", help="The board's name.")],
    goal: Annotated[str, typer.Option(help="What the board is for.")] = "",
    due: Annotated[
        datetime | None, typer.Option(help="Due date, for the burn-down's ideal line.")
    ] = None,
    lead: Annotated[str | None, typer.Option(help="The supervisor agent's name.")] = None,
    require_verification: Annotated[
        bool, typer.Option(help="Refuse completions without verification evidence.")
    ] = False,
    lease_seconds: Annotated[
        int, typer.Option(help="How long a claim lasts without heartbeat.")
    ] = 900,
    agents: Annotated[
        str | None,
        typer.Option(
            metavar="token|named",
            help="How agents prove who they are: token (AGENTDECK_TOKEN) or named (--as "
            "NAME alone; humans always need their credential). Default: named for a SQLite "
            "file, token for PostgreSQL.",
        ),
    ] = None,
) -> None:
    """Create a board (and the database if there is none); you join it as its first human,
    and your credential is saved in your own config directory
    (~/.config/agentdeck/credentials.json), so you need no flags afterwards.

    Example: agentdeck board create WEB "Company website" --lead planner --due 2025-06-01
    """
    if due is not None and due.tzinfo is None:
        from datetime import UTC

        due = due.replace(tzinfo=UTC)
    creator = s.creator()
    created = s.deck(create=True).create_board(
        key,
        name,
        actor=creator,
        goal=goal,
        due_at=due,
        lead=lead,
        require_verification=require_verification,
        lease_seconds=lease_seconds,
        agents=agents,
    )
    saved = s.save_credential(created.key, creator)
    doc = {**created.to_dict(), "credential_file": saved}
    if lead:
        doc["lead_token"] = s.deck().issued_token(lead, created.key)

    def render() -> None:
        say(
            f"created board {created.key} ({safe(created.name, one_line=True)}) "
            f"in {s.deck().url}; {creator} is on its team"
        )
        say(f"your credential is saved in {saved}")
        say(MODE_SAYS[created.agents])
        if doc.get("lead_token"):
            say(f"{lead}'s token (shown once; give it to the agent as AGENTDECK_TOKEN):")
            say(str(doc["lead_token"]))

    s.emit(doc, render)


@deck_command()
def login(
    s: Session,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="-",
            help="Read the token a human gave you from stdin (`-`) and save it.",
        ),
    ] = None,
) -> None:
    """Save your human credential for a board in your own config directory (~/.config/agentdeck/credentials.json, readable by you only).

    With --token -, save the token another human gave you when they added you. Without it, take the first human credential of a board from before credentials, where no human holds one yet (run it once, before any agent does).

    Example: agentdeck login --token -
    """
    import sys

    deck = s.deck()
    if token is not None:
        if token != "-":
            raise CliError("pass the token on stdin with --token - (arguments show in `ps`)")
        from agentdeck.core import credentials

        given = credentials.check_token(sys.stdin.readline(), "the token on stdin")
        deck.present(given, credentials.BY_FILE)
        held = deck.whoami(s.board)
        if held is None:
            raise CliError("no member of this database holds that token (was it rotated?)")
        if held.kind != "human":
            raise CliError(f"that is agent {held.name}'s token; agents use it as AGENTDECK_TOKEN")
        name, board = held.name, held.board
        where = identity.database_id(deck.url, deck.path)
        saved = str(identity.save_credential(where, board, name, given))
    else:
        first = deck.login(s.human(), board=s.board)
        name, board = first.name, first.board
        saved = s.save_credential(board, name) or ""
    s.emit(
        {"board": board, "name": name, "credential_file": saved},
        lambda: say(f"saved {name}'s credential for board {board} in {saved}"),
    )


@board_app.command("agents")
@deck_command()
def board_agents(
    s: Session,
    mode: Annotated[
        str,
        typer.Argument(
            metavar="token|named",
            help="token: every agent presents AGENTDECK_TOKEN; named: agents may act by "
            "--as NAME alone. Humans always need their credential.",
        ),
    ],
) -> None:
    """Change how the board's agents prove who they are (a human-only move).

    Example: agentdeck board agents token
    """
    changed = s.deck().set_agents_mode(mode, actor=s.human(), board=s.board)
    s.emit(
        changed.to_dict(),
        lambda: say(f"board {changed.key}: {MODE_SAYS[changed.agents]}"),
    )


@board_app.command("list")
@deck_command(board=False)
def list_boards(
    s: Session,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
    every: AllOption = False,
) -> None:
    """List the boards in the database, a page at a time.

    With --json: {"boards": [...], "next_cursor": C or null}; --cursor C gives the next page. With --all: every board, one JSON object per line.

    Example: agentdeck board list --json
    """
    if every:
        stream(s, s.deck().iter_boards(), cursor=cursor)
        return
    start = start_of(cursor)
    found = s.deck().list_boards(limit=limit + 1, offset=start)

    def render(shown: Sequence[Board], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.boards(shown)
        more(next_cursor)

    emit_page(s, "boards", found, start, limit, render=render)


@agent_app.command("add")
@deck_command()
def add_agent(
    s: Session,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The agent's (or human's) name.")],
    human: Annotated[bool, typer.Option("--human", help="Add a human, who may approve.")] = False,
    skills: Annotated[str, typer.Option(help="Comma-separated skill tags.")] = "",
    role: Annotated[str, typer.Option(help="A short role, like 'backend dev'.")] = "",
    supervisor: Annotated[str | None, typer.Option(help="Who this agent reports to.")] = None,
) -> None:
    """Add an agent (or with --human a human) to the board's team, and print its token
    once. Only a human adds a human; a human or the board's lead adds agents.

    Example: agentdeck agent add coder --skills python,sql --role "backend dev" --json
    """
    added = s.deck().add_agent(
        name,
        actor=s.human(),
        board=s.board,
        kind="human" if human else "agent",
        skills=split_list(skills),
        role=role,
        supervisor=supervisor,
    )
    token = s.deck().issued_token(added.name, added.board)

    def render() -> None:
        say(f"added {added.kind} {added.name} to board {added.board}")
        if added.kind == "human":
            say(
                f"{added.name}'s token (shown once; they save it with "
                f"`agentdeck login --token -` at their own terminal):"
            )
        else:
            say(f"{added.name}'s token (shown once; give it to the agent as AGENTDECK_TOKEN):")
        say(token or "")

    s.emit({**added.to_dict(), "token": token}, render)


@agent_app.command("token")
@deck_command()
def agent_token(
    s: Session,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Whose token.")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Issue a new token; the old one stops working.")
    ] = False,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Make the token stop working, issuing none.")
    ] = False,
) -> None:
    """Rotate or revoke a member's token. Anyone may rotate or revoke their own; only a
    human may do it for someone else. Your own new human token is saved in your credential
    file; anyone else's is printed once.

    Example: agentdeck agent token coder --rotate --json
    """
    if rotate == revoke:
        raise typer.BadParameter("pass exactly one of --rotate or --revoke")
    deck = s.deck()
    actor = s.human()
    if revoke:
        deck.revoke_credential(name, actor=actor, board=s.board)
        s.emit({"name": name, "revoked": True}, lambda: say(f"revoked {name}'s token"))
        return
    new = deck.rotate_credential(name, actor=actor, board=s.board)
    saved = None
    if new.kind == "human" and new.name == actor:
        saved = s.save_credential(new.board, new.name)
    doc = {**new.to_dict(), "credential_file": saved}
    if saved:
        doc["token"] = None

    def render() -> None:
        if saved:
            say(f"rotated your token; the new one is saved in {saved}")
        else:
            say(f"{new.name}'s new token (shown once):")
            say(new.token)

    s.emit(doc, render)


@agent_app.command("list")
@deck_command()
def list_agents(
    s: Session,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
    every: AllOption = False,
) -> None:
    """List the board's team: who is working, idle or stale, and on what, a page at a time.

    With --json: {"agents": [...], "next_cursor": C or null}; --cursor C gives the next page. With --all: every member, one JSON object per line.

    Example: agentdeck agent list --board WEB
    """
    if every:
        stream(s, s.deck().iter_agents(s.board), cursor=cursor)
        return
    start = start_of(cursor)
    team = s.deck().list_agents(s.board, limit=limit + 1, offset=start)

    def render(shown: Sequence[Agent], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.agents(shown)
        more(next_cursor)

    emit_page(s, "agents", team, start, limit, render=render)


@budget_app.command("set")
@deck_command()
def set_budget(
    s: Session,
    metric: Annotated[
        str, typer.Argument(metavar="METRIC", help="tokens, cost_usd, cpu_hours or gpu_hours.")
    ],
    soft: Annotated[float | None, typer.Option(help="Warn at this much use.")] = None,
    hard: Annotated[float | None, typer.Option(help="Refuse claims at this much use.")] = None,
    scope: Annotated[str, typer.Option(help="board, agent or task.")] = "board",
    subject: Annotated[str, typer.Option(help="The agent name or task key of the scope.")] = "",
) -> None:
    """Set the soft and hard limit on one metric for the board, an agent or a task.

    Example: agentdeck budget set tokens --scope agent --subject coder --hard 2000000
    """
    status = s.deck().set_budget(
        metric,
        actor=s.human(),
        board=s.board,
        scope=scope,
        subject=subject,
        soft=soft,
        hard=hard,
    )
    scope = " ".join(filter(None, (status.scope, safe(status.subject, one_line=True))))
    s.emit(
        status.to_dict(),
        lambda: say(
            f"{scope} {status.metric} budget: soft {amount(status.soft)}, "
            f"hard {amount(status.hard)}, used {amount(status.used)} ({status.level})"
        ),
    )


@budget_app.command("show")
@deck_command()
def show_budget(
    s: Session,
    scope: Annotated[str | None, typer.Option(help="Only board, agent or task budgets.")] = None,
    subject: Annotated[str | None, typer.Option(help="Only this agent or task.")] = None,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
    every: AllOption = False,
) -> None:
    """Show the budgets with their use and level (ok, warn, over), a page at a time, and the board's usage.

    With --json: {"budgets": [...], "usage": {...}, "next_cursor": C or null}; --cursor C gives the next page. With --all: every budget, one JSON object per line.

    Example: agentdeck budget show --json
    """
    deck = s.deck()
    if every:
        stream(s, deck.iter_budgets(s.board, scope=scope, subject=subject), cursor=cursor)
        return
    start = start_of(cursor)
    found = deck.budget_status(s.board, scope=scope, subject=subject, limit=limit + 1, offset=start)
    from agentdeck.core import views

    statuses, next_cursor = found[:limit], views.next_cursor(len(found), start, limit)
    totals = deck.usage_totals(s.board)

    def render() -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.budgets(statuses, totals)
        more(next_cursor)

    s.emit(
        {
            "budgets": [b.to_dict() for b in statuses],
            "usage": totals.to_dict(),
            "next_cursor": next_cursor,
        },
        render,
    )

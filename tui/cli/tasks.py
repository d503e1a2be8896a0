"""Tasks and plans: `agentdeck task add|list|show`, `plan`, `ready`, `search`, `similar`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.formats.files import read_at_most, read_regular_file
from agentdeck.tui.cli.context import (
    KeyArgument,
    Session,
    deck_command,
    split_list,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import plural, safe, say
from agentdeck.tui.cli.pages import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorOption,
    LimitOption,
    emit_page,
    id_after,
    more,
    start_of,
    window,
)

if TYPE_CHECKING:
    from agentdeck.core.models import SearchHit, Task

task_app = typer.Typer(
    name="task",
    no_args_is_help=True,
    help="Add, list and show tasks.",
    epilog='Example: agentdeck task add "Write the login page" --skills frontend --as planner',
)


@task_app.command("add")
@deck_command()
def add_task(
    s: Session,
    title: Annotated[str, typer.Argument(metavar="TITLE", help="One line saying what to do.")],
    description: Annotated[str, typer.Option("--description", "-d", help="Details.")] = "",
    criteria: Annotated[str, typer.Option(help="How to tell it is done.")] = "",
    priority: Annotated[int, typer.Option("--priority", "-p", help="0 most urgent .. 4.")] = 2,
    skills: Annotated[str, typer.Option(help="Comma-separated required skills.")] = "",
    parent: Annotated[str | None, typer.Option(help="Parent task (epic) key.")] = None,
    requires_approval: Annotated[
        bool, typer.Option("--requires-approval", help="A human must approve the result.")
    ] = False,
    estimate: Annotated[float | None, typer.Option(help="Estimate in hours.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Give it to this agent.")] = None,
    blocked_by: Annotated[str, typer.Option(help="Comma-separated keys it waits on.")] = "",
) -> None:
    """Add one task to the board.

    Example: agentdeck task add "Add login form" -p 1 --skills frontend --blocked-by WEB-2 --as planner
    """
    task = s.deck().add_task(
        title,
        actor=s.agent(),
        board=s.board,
        description=description,
        criteria=criteria,
        priority=priority,
        skills=split_list(skills),
        parent=parent,
        requires_approval=requires_approval,
        estimate_hours=estimate,
        assignee=assignee,
        blocked_by=split_list(blocked_by),
    )
    s.emit(
        task.to_dict(),
        lambda: say(f"added {task.key}: {safe(task.title, one_line=True)} ({task.column})"),
    )


@task_app.command("list")
@deck_command(full=True)
def list_tasks(
    s: Session,
    status: Annotated[
        str | None, typer.Option(help="Comma-separated statuses, e.g. pending,review.")
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(help="blocked, ready, in_progress, needs_human, done, failed or cancelled."),
    ] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this agent's tasks.")] = None,
    include_cancelled: Annotated[
        bool, typer.Option("--all", help="Include cancelled tasks.")
    ] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
) -> None:
    """List the board's tasks by priority, then age, a page at a time.

    With --json: {"tasks": [...], "next_cursor": C or null}; pass --cursor C for the next page, --full for every field of each task.

    Example: agentdeck task list --column needs_human --json
    """
    start = start_of(cursor)
    found = s.deck().list_tasks(
        s.board,
        status=split_list(status) or None,
        column=column,
        assignee=assignee,
        include_cancelled=include_cancelled,
        limit=limit + 1,
        offset=start,
    )

    def render(shown: Sequence[Task], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.tasks(shown)
        more(next_cursor)

    emit_page(s, "tasks", found, start, limit, render=render)


@task_app.command("show")
@deck_command(full=True)
def show_task(
    s: Session,
    key: KeyArgument,
    log_limit: Annotated[
        int,
        typer.Option(
            "--log-limit",
            "--log",
            min=0,
            max=MAX_LIMIT,
            metavar="N",
            help="Show this many of the newest log entries.",
        ),
    ] = DEFAULT_LIMIT,
    log_cursor: Annotated[
        str | None,
        typer.Option(
            "--log-cursor", metavar="C", help="Show the entries older than a log_cursor given."
        ),
    ] = None,
) -> None:
    """Show a task in full: fields, dependencies, notes, checkpoints, usage and its log tail.

    With --json the log is paged: "log" holds the newest --log-limit entries (oldest first) and "log_cursor", passed back as --log-cursor, gives the entries before them (null when none are left). Log entries are one-line cards; --full gives every field of the task and each entry whole.

    Example: agentdeck task show WEB-12 --log-limit 50
    """
    before = id_after(log_cursor)
    deck = s.deck()
    detail = deck.task_detail(key)
    entries, next_cursor = deck.task_log_page(key, limit=log_limit, before_id=before)

    def render() -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.task_sheet(detail, entries)
        if next_cursor is not None:
            say(f"older: --log-cursor {next_cursor}")

    from agentdeck.core import views

    s.answer(
        lambda: {
            **views.detail_view(detail),
            "log": [views.event_card(e) for e in entries],
            "log_cursor": next_cursor,
        },
        lambda: {
            **detail.to_dict(),
            "log": [e.to_dict() for e in entries],
            "log_cursor": next_cursor,
        },
        render,
    )


MAX_PLAN = 64 * 1024 * 1024  # plans carrying 10 MB descriptions are truncated, not refused


def read_plan(path: str) -> list[Any]:
    """The task list in a YAML or JSON plan file (`-` is stdin), or a clear error."""
    where = "stdin" if path == "-" else path
    try:
        # Bytes, decoded here: sys.stdin may decode with surrogateescape (a C locale) and
        # hand invalid UTF-8 on to the parser as if it were text.
        # A file must be a regular one (a FIFO or device would block or never end); both
        # are refused past MAX_PLAN while reading.
        data = (
            read_at_most(sys.stdin.buffer, MAX_PLAN, "stdin")
            if path == "-"
            else read_regular_file(path, MAX_PLAN, f"plan {path}", follow_links=True)
        )
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"plan {where} is not UTF-8 text") from exc
    if path.endswith(".json"):
        try:
            doc = json.loads(raw, parse_constant=limits.json_constant)
        except json.JSONDecodeError as exc:
            raise CliError(f"{where} line {exc.lineno}: not valid JSON: {exc.msg}") from exc
        except ValidationError as exc:  # NaN or Infinity
            raise CliError(f"{where}: {exc.message}") from None
        except RecursionError:
            raise CliError(f"{where}: nested too deeply to read") from None
    else:
        import yaml

        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise CliError(f"{where}{line}: {problem}") from exc
        except RecursionError:
            raise CliError(f"{where}: nested too deeply to read") from None
    if isinstance(doc, dict) and set(doc) == {"tasks"}:
        doc = doc["tasks"]
    if not isinstance(doc, list):
        raise CliError(f'{where}: a plan is a list of tasks, or {{"tasks": [...]}}')
    return doc


@deck_command(full=True)
def plan(
    s: Session,
    file: Annotated[str, typer.Argument(metavar="FILE", help="YAML or JSON plan; - for stdin.")],
) -> None:
    """Create a whole decomposition at once, all or nothing, from a YAML or JSON file.

    The file is a list of tasks (or {"tasks": [...]}); each has a title and optionally ref,
    description, criteria, priority, skills, requires_approval, estimate_hours, assignee,
    parent and blocked_by (refs in the plan or existing keys like WEB-3).

    With --json: each task's ref, key and column; --full for the whole tasks.

    Example: agentdeck plan plan.yaml --as planner
    """

    specs = read_plan(file)
    try:
        created = s.deck().plan(specs, actor=s.agent(), board=s.board)
    except ValidationError as exc:  # name the file: "plan.yaml: plan task 3: needs a title"
        raise ValidationError(f"{file}: {exc.message}") from exc

    def render() -> None:
        from agentdeck.tui.cli import rich_views

        say(f"planned {plural(len(created), 'task')}")
        rich_views.tasks(created)

    from agentdeck.core import views

    refs = [spec.get("ref") if isinstance(spec, dict) else None for spec in specs]
    s.answer(
        lambda: views.plan_receipt(refs, created), lambda: [t.to_dict() for t in created], render
    )


@deck_command(full=True)
def ready(
    s: Session,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
) -> None:
    """List the ready queue, best first; with --as, only what that agent may claim.

    With --json: {"tasks": [...], "next_cursor": C or null}; --cursor C gives the next page, --full every field of each task.

    Example: agentdeck ready --as coder --json --limit 5
    """
    start = start_of(cursor)
    deck = s.deck()
    found = window(lambda n: deck.ready(s.board, agent=s.actor, limit=n), start, limit)

    def render(shown: Sequence[Task], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.tasks(shown, empty="nothing is ready")
        more(next_cursor)

    emit_page(s, "tasks", found, start, limit, render=render)


@deck_command(full=True)
def search(
    s: Session,
    query: Annotated[str, typer.Argument(metavar="QUERY", help="Words that must all appear.")],
    limit: LimitOption = 10,
    cursor: CursorOption = None,
) -> None:
    """Search finished tasks (titles, results, notes, decisions), best match first.

    With --json: {"hits": [...], "next_cursor": C or null}.

    Example: agentdeck search "oauth callback" --limit 5 --json
    """
    start = start_of(cursor)
    deck = s.deck()
    found = window(lambda n: deck.search(query, board=s.board, limit=n), start, limit)

    def render(shown: Sequence[SearchHit], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.hits(shown)
        more(next_cursor)

    emit_page(s, "hits", found, start, limit, render=render)


@deck_command(full=True)
def similar(
    s: Session,
    key: KeyArgument,
    limit: LimitOption = 3,
    cursor: CursorOption = None,
) -> None:
    """List finished tasks most like this one, to reuse what worked.

    With --json: {"hits": [...], "next_cursor": C or null}.

    Example: agentdeck similar WEB-12 --json
    """
    start = start_of(cursor)
    deck = s.deck()
    found = window(lambda n: deck.similar(key, limit=n), start, limit)

    def render(shown: Sequence[SearchHit], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.hits(shown, empty="no similar finished tasks")
        more(next_cursor)

    emit_page(s, "hits", found, start, limit, render=render)

"""Tasks and plans: `agentdeck task add|edit|list|show`, `plan`, `ready`, `search`, `similar`."""

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
    AllOption,
    CursorOption,
    LimitOption,
    emit_page,
    id_after,
    more,
    start_of,
    stream,
    window,
)

if TYPE_CHECKING:
    from agentdeck.core.models import SearchHit, Task

TYPES = "task, bug, feature, epic or chore"
LabelFilter = Annotated[
    str | None, typer.Option("--label", metavar="LABEL", help="Only tasks with this label.")
]

task_app = typer.Typer(
    name="task",
    no_args_is_help=True,
    help="Add, edit, list and show tasks.",
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
    label: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="LABEL", help="A label (repeatable), like ui or urgent."),
    ] = None,
    task_type: Annotated[str, typer.Option("--type", metavar="TYPE", help=f"{TYPES}.")] = "task",
) -> None:
    """Add one task to the board.

    Example: agentdeck task add "Add login form" -p 1 --skills frontend --blocked-by WEB-2 --as planner

    Example: agentdeck task add "Crash on empty cart" --type bug --label checkout --label urgent
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
        labels=label or (),
        type=task_type,
    )
    s.emit(
        task.to_dict(),
        lambda: say(f"added {task.key}: {safe(task.title, one_line=True)} ({task.column})"),
    )


MAX_STDIN = 1024 * 1024  # a description read from stdin; core keeps 64 KiB of it


def _text_from(value: str | None, what: str) -> str | None:
    """An option's text, or standard input for `-` (UTF-8; bytes that are not become U+FFFD)."""
    if value != "-":
        return value
    return read_at_most(sys.stdin.buffer, MAX_STDIN, f"{what} on stdin").decode("utf-8", "replace")


def _cleared(value: str | None) -> Any:
    """What an option that may clear a field gives core: `-` clears (None), absent keeps."""
    from agentdeck.core.editing import KEEP

    return KEEP if value is None else None if value.strip() == "-" else value


def _hours(value: str | None) -> Any:
    """`--estimate`: hours as a number, `-` for none, absent to keep."""
    kept = _cleared(value)
    if not isinstance(kept, str):
        return kept
    try:
        return float(kept)
    except ValueError:
        raise ValidationError(f"--estimate is a number of hours or -, not {kept[:40]!r}") from None


@task_app.command("edit")
@deck_command(full=True)
def edit_task(
    s: Session,
    key: KeyArgument,
    title: Annotated[str | None, typer.Option(help="A new title (one line).")] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="New details; - reads stdin.")
    ] = None,
    criteria: Annotated[
        str | None, typer.Option(help="New success criteria (replaces them).")
    ] = None,
    criteria_note: Annotated[
        str | None,
        typer.Option("--criteria-note", help="Append a note under the criteria (holders may)."),
    ] = None,
    skills: Annotated[
        str | None, typer.Option(help='Comma-separated required skills ("" for none).')
    ] = None,
    estimate: Annotated[
        str | None, typer.Option(metavar="HOURS", help="Estimate in hours; - for none.")
    ] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", "-p", help="0 most urgent .. 4.")
    ] = None,
    parent: Annotated[
        str | None, typer.Option(metavar="KEY", help="Parent task (epic); - for none.")
    ] = None,
    add_dep: Annotated[
        list[str] | None,
        typer.Option("--add-dep", metavar="KEY", help="Wait on this task too (repeatable)."),
    ] = None,
    remove_dep: Annotated[
        list[str] | None,
        typer.Option("--remove-dep", metavar="KEY", help="Stop waiting on it (repeatable)."),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="LABEL", help="Add this label (repeatable)."),
    ] = None,
    unlabel: Annotated[
        list[str] | None,
        typer.Option("--unlabel", metavar="LABEL", help="Remove this label (repeatable)."),
    ] = None,
    task_type: Annotated[
        str | None, typer.Option("--type", metavar="TYPE", help=f"{TYPES}.")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            "--expected-version",
            metavar="N",
            help="The version you saw (task show); refused (exit 2) if it changed since. "
            "Without it, the version read when this command starts.",
        ),
    ] = None,
) -> None:
    """Change a task: title, description, criteria, skills, estimate, priority, parent, dependencies, labels or type, in one step and one logged event.

    The task's creator, the board's lead and humans may change anything; the agent holding it may only add dependencies (--add-dep) and criteria notes (--criteria-note). A done or cancelled task keeps its history: only its labels change.

    Pass --version N, the version you looked at (task show --json gives it): if anyone moved or edited the task since, the edit is refused (exit 2) instead of overwriting theirs. Without --version the command uses the version it reads when it starts, which only catches a change racing the command itself; scripts and agents should pass it.

    With --json: {"key", "version", "changed"}; "changed" is empty when every value given was already the task's (nothing is written). --full gives the whole task.

    Example: agentdeck task edit WEB-12 --title "Add OAuth login" --label auth --version 3

    Example: agentdeck task edit WEB-12 --add-dep WEB-15 --criteria-note "needs the new token API"

    Example: git log -1 --format=%B | agentdeck task edit WEB-12 -d -
    """
    deck = s.deck()
    actor = s.human()
    seen = version if version is not None else deck.get_task(key).version
    edited = deck.edit_task(
        key,
        actor=actor,
        expected_version=seen,
        title=title,
        description=_text_from(description, "--description"),
        criteria=criteria,
        criteria_note=criteria_note,
        skills=None if skills is None else split_list(skills),
        estimate_hours=_hours(estimate),
        priority=priority,
        parent=_cleared(parent),
        add_dependencies=add_dep or (),
        remove_dependencies=remove_dep or (),
        add_labels=label or (),
        remove_labels=unlabel or (),
        type=task_type,
    )

    def render() -> None:
        t = edited.task
        if edited.changed:
            say(f"edited {t.key}: {', '.join(edited.changed)} (now version {t.version})")
        else:
            say(f"{t.key} unchanged: it already had every value given (version {t.version})")

    from agentdeck.core import views

    s.answer(
        lambda: views.edit_receipt(edited),
        lambda: {"task": edited.task.to_dict(), "changed": list(edited.changed)},
        render,
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
    label: LabelFilter = None,
    include_cancelled: Annotated[
        bool, typer.Option("--cancelled", help="Include cancelled tasks.")
    ] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
    every: AllOption = False,
) -> None:
    """List the board's tasks by priority, then age, a page at a time.

    With --json: {"tasks": [...], "next_cursor": C or null}; pass --cursor C for the next page, --full for every field of each task. With --all: every task, one JSON object per line, in key order, streamed.

    Example: agentdeck task list --column needs_human --json

    Example: agentdeck task list --all --status done --full
    """
    filters: dict[str, Any] = {
        "status": split_list(status) or None,
        "column": column,
        "assignee": assignee,
        "label": label,
        "include_cancelled": include_cancelled,
    }
    if every:
        stream(s, s.deck().iter_tasks(s.board, **filters), cursor=cursor)
        return
    start = start_of(cursor)
    found = s.deck().list_tasks(s.board, **filters, limit=limit + 1, offset=start)

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

    The file is a list of tasks (or {"tasks": [...]}); each has a title and optionally ref, description, criteria (text, or a list of items stored as a "- [ ] item" checklist), priority, skills, labels, type (task, bug, feature, epic or chore), requires_approval, estimate_hours, assignee, parent and blocked_by (refs in the plan or existing keys like WEB-3).

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
    label: LabelFilter = None,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
    every: AllOption = False,
) -> None:
    """List the ready queue, best first; with --as, only what that agent may claim.

    With --json: {"tasks": [...], "next_cursor": C or null}; --cursor C gives the next page, --full every field of each task. With --all: the whole queue, one JSON object per line, in key order, streamed.

    Example: agentdeck ready --as coder --json --limit 5
    """
    deck = s.deck()
    if every:
        stream(s, deck.iter_ready(s.board, agent=s.actor, label=label), cursor=cursor)
        return
    start = start_of(cursor)
    found = window(lambda n: deck.ready(s.board, agent=s.actor, label=label, limit=n), start, limit)

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

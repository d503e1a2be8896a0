"""Small `--json` answers for list-shaped commands: one page of compact views and a cursor.

Agents call the CLI thousands of times and pay for every character, so `ready`, `task list`,
`search`, `similar`, `events` and `inbox` answer `--json` with one envelope,

    {"<items>": [compact views], "next_cursor": "..." | null}

where `<items>` is `tasks`, `hits`, `events` or `messages`, each view is the one in
`agentdeck.core.views` (the MCP tools give the same), and `next_cursor`, passed back as
`--cursor`, gives the next page (null on the last). `--full` keeps the envelope and paging but
puts each item's whole model in it, for people and scripts that want every field.

`--all` streams every item instead of one page: one JSON object per line (the same views,
whole with `--full`), read from the database a page at a time and printed as it comes, so a
100,000-task board costs the memory of one page (`stream`). It prints JSON lines with or
without `--json`: a whole list is for programs, not for reading.

The cursor is opaque: callers pass it back as given. For most lists it is a position in the
list (`views.start_of` checks it); for the event stream, a task's log and the inbox it is the
id of the last row shown (`views.id_after`), because new rows arrive while an agent pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from agentdeck.tui.cli.output import print_json, say

if TYPE_CHECKING:
    from agentdeck.tui.cli.context import Session

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
STREAM_PAGE = 500  # messages per read when --all streams the inbox (as core.views.STREAM_PAGE)

LimitOption = Annotated[
    int,
    typer.Option("--limit", min=1, max=MAX_LIMIT, metavar="N", help="At most N per page."),
]
CursorOption = Annotated[
    str | None,
    typer.Option("--cursor", metavar="C", help="Start at the next_cursor a previous page gave."),
]


AllOption = Annotated[
    bool,
    typer.Option(
        "--all", help="Print every item, one JSON object per line (streamed; ignores --limit)."
    ),
]


def stream(s: Session, items: Iterable[Any], *, cursor: str | None = None) -> None:
    """Print every item of `items` (an iterator that reads a page at a time) as JSON lines:
    compact views, or whole models with --full. A --cursor makes no sense with it."""
    if cursor is not None:
        from agentdeck.core.errors import ValidationError

        raise ValidationError("give --all or --cursor, not both")
    for item in items:
        print_json(view(item, s.full))


def start_of(cursor: str | None) -> int:
    """The position a `--cursor` names (0 without one); a forged cursor is one clear error."""
    from agentdeck.core import views

    return views.start_of(cursor)


def id_after(cursor: str | None) -> int | None:
    """The row id a keyset cursor names (events, a task's log, the inbox), None without one;
    a forged cursor is one clear error."""
    from agentdeck.core import views

    return views.id_after(cursor)


def window(fetch: Callable[[int], Sequence[T]], start: int, limit: int) -> Sequence[T]:
    """The items from `start`, up to `limit` + 1 of them (one more tells whether a next page
    exists), for a read that takes only a count: `fetch(n)` returns the first `n`."""
    return fetch(start + limit + 1)[start:]


def emit_page(
    s: Session,
    name: str,
    items: Sequence[Any],
    start: int,
    limit: int,
    *,
    render: Callable[[Sequence[Any], str | None], None],
) -> None:
    """Print one page of `items` (fetched from `start`, up to `limit` + 1): with --json as
    `{name: [...], "next_cursor": ...}`, compact views unless --full; otherwise `render`
    gets the page's items and the next cursor (None on the last page)."""
    from agentdeck.core import views

    emit_items(s, name, items[:limit], views.next_cursor(len(items), start, limit), render=render)


def emit_items(
    s: Session,
    name: str,
    shown: Sequence[Any],
    next_cursor: str | None,
    *,
    render: Callable[[Sequence[Any], str | None], None],
) -> None:
    """Print a page already cut: with --json the envelope of views (or whole models with
    --full), otherwise `render(shown, next_cursor)`."""
    if s.json:
        print_json({name: [view(item, s.full) for item in shown], "next_cursor": next_cursor})
    else:
        render(shown, next_cursor)


def view(item: Any, full: bool) -> dict[str, Any]:
    """An item's compact view (`agentdeck.core.views`), or its whole model with `full`."""
    from agentdeck.core import views

    return item.to_dict() if full or type(item) not in views.CARDS else views.card(item)


def more(next_cursor: str | None) -> None:
    """Tell a person how to see the next page, if there is one."""
    if next_cursor is not None:
        say(f"more: --cursor {next_cursor}")

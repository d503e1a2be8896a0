"""Small `--json` answers for list-shaped commands: one page of compact views and a cursor.

Agents call the CLI thousands of times and pay for every character, so `ready`, `task list`,
`search`, `similar`, `events` and `inbox` answer `--json` with one envelope,

    {"<items>": [compact views], "next_cursor": "..." | null}

where `<items>` is `tasks`, `hits`, `events` or `messages`, each view is the one in
`agentdeck.core.views` (the MCP tools give the same), and `next_cursor`, passed back as
`--cursor`, gives the next page (null on the last). `--full` keeps the envelope and paging but
puts each item's whole model in it, for people and scripts that want every field.

The cursor is opaque: callers pass it back as given. For most lists it is a position in the
list (`views.start_of` checks it); for the event stream and a task's log it is an event id
(`event_cursor`), because new events arrive while an agent pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from agentdeck.tui.cli.output import print_json, say

if TYPE_CHECKING:
    from agentdeck.tui.cli.context import Session

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
MAX_EVENT_ID = 2**63 - 1

LimitOption = Annotated[
    int,
    typer.Option("--limit", min=1, max=MAX_LIMIT, metavar="N", help="At most N per page."),
]
CursorOption = Annotated[
    str | None,
    typer.Option("--cursor", metavar="C", help="Start at the next_cursor a previous page gave."),
]


def start_of(cursor: str | None) -> int:
    """The position a `--cursor` names (0 without one); a forged cursor is one clear error."""
    from agentdeck.core import views

    return views.start_of(cursor)


def event_cursor(cursor: str | None) -> int | None:
    """The event id an events or log cursor names (None without one), else a clear error."""
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_EVENT_ID:
        from agentdeck.core.errors import ValidationError

        raise ValidationError(f"not a page cursor: {cursor[:40]!r} (pass next_cursor as given)")
    return int(cursor)


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
    consumed: bool = False,
) -> None:
    """Print one page of `items` (fetched from `start`, up to `limit` + 1): with --json as
    `{name: [...], "next_cursor": ...}`, compact views unless --full; otherwise `render`
    gets the page's items and the next cursor (None on the last page).

    `consumed`: showing the page took it off the list (a read inbox), so the next page
    starts where this one did."""
    from agentdeck.core import views

    shown, next_cursor = views.page(items, start, limit, lambda item: view(item, s.full))
    if consumed:  # the cursor of what is left after an empty page at `start`
        next_cursor = views.page(items[limit:], start, 0, dict)[1]
    if s.json:
        print_json({name: shown, "next_cursor": next_cursor})
    else:
        render(items[:limit], next_cursor)


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

    return item.to_dict() if full else views.card(item)


def more(next_cursor: str | None) -> None:
    """Tell a person how to see the next page, if there is one."""
    if next_cursor is not None:
        say(f"more: --cursor {next_cursor}")

"""The agent's side: claim, heartbeat, doing, log, usage, submit, done, fail, escalate,
release, checkpoint, inbox and send (which humans use too). Each needs the acting agent (`--as` or `AGENTDECK_AS`).

`log`, `heartbeat`, `doing` and `usage` are the hottest calls an agent makes, so their text
output is a plain line and never imports rich.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.tui.cli.context import (
    KeyArgument,
    Session,
    deck_command,
    one_text,
)
from agentdeck.tui.cli.errors import EXIT_NOTHING_READY, CliError
from agentdeck.tui.cli.output import amount, safe, say, warn
from agentdeck.tui.cli.pages import (
    DEFAULT_LIMIT,
    STREAM_PAGE,
    AllOption,
    CursorOption,
    LimitOption,
    emit_items,
    id_after,
    more,
    stream,
)
from agentdeck.tui.cli.stopping import interrupt_calls

if TYPE_CHECKING:
    from agentdeck.core import Deck
    from agentdeck.core.feed import ChangeFeed
    from agentdeck.core.models import Message, Task

R = TypeVar("R")
# The longest `--wait`: an hour (`agentdeck.core.waiting.MAX_WAIT_SECONDS`, not imported here:
# this module loads on every command, core's storage only when a command needs it).
MAX_WAIT_SECONDS = 3600

ResultArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="RESULT",
        help="What was done, for the reviewer and the library.",
        show_default=False,
    ),
]
# --result, from before the result became positional: still accepted, no longer shown.
ResultAlias = Annotated[str | None, typer.Option("--result", hidden=True)]
VerifiedOption = Annotated[
    str, typer.Option("--verified-by", help="Evidence it works: tests run, output checked.")
]


WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        min=0,
        max=MAX_WAIT_SECONDS,
        help=f"When there is nothing, wait up to SECONDS (at most {MAX_WAIT_SECONDS}) for it; "
        "woken by the change, not by polling.",
    ),
]


def _waiting(
    s: Session, wait: float, what: str, verb: Callable[[float, ChangeFeed | None], R]
) -> R:
    """`verb(0, None)`; if that finds nothing and `wait` is given, say so on stderr (`what`
    is waited for) and `verb(wait, feed)` with a change feed to wait on. Ctrl-C during the
    wait closes the feed, which ends it, and exits 130."""
    found = verb(0, None)
    if found or not wait:
        return found
    from agentdeck.core.feed import ChangeFeed

    with ChangeFeed(s.deck()) as feed, interrupt_calls(feed.close) as interrupted:
        sys.stderr.write(f"agentdeck: waiting up to {wait:g} s for {what} (Ctrl-C stops)\n")
        sys.stderr.flush()
        found = verb(wait, feed)
    if interrupted.is_set() and not found:
        raise KeyboardInterrupt
    return found


@deck_command(full=True)
def claim(
    s: Session,
    key: Annotated[
        str | None, typer.Argument(metavar="KEY", help="Claim this task instead of the best.")
    ] = None,
    wait: WaitOption = 0,
) -> None:
    """Take the best ready task (or KEY) with a lease; shows its inbox and similar past work.

    With --wait, when nothing is ready, wait for a task you may claim to become ready (a blocker done, a task added or assigned to you, a lease lapsing) and claim it then. Exits 3 when nothing is ready for you (after --wait: when none came), 4 at once when a hard budget over it is spent, 130 on Ctrl-C.

    With --json: the task whole (without bookkeeping), its inbox as message cards and similar work as search hits; --full for the whole models.

    Example: agentdeck claim --as coder --wait 600 --json
    """
    agent = s.agent()
    claimed = _waiting(
        s,
        wait,
        f"a task {agent} may claim",
        lambda seconds, feed: s.deck().claim(
            agent, board=s.board, key=key, wait=seconds, feed=feed
        ),
    )
    if claimed is None:
        where = f" on board {s.board.upper()}" if s.board else ""
        raise CliError(f"nothing ready for {agent} to claim{where}", EXIT_NOTHING_READY)

    def render() -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.claim(claimed)

    from agentdeck.core import views

    s.answer(lambda: views.claim_view(claimed), claimed.to_dict, render)


@deck_command()
def heartbeat(
    s: Session,
) -> None:
    """Say you are alive and renew the leases of the tasks you hold.

    Example: agentdeck heartbeat --as coder
    """
    agent = s.agent()
    held = s.deck().heartbeat(agent, board=s.board)
    s.emit(
        {"agent": agent, "held": held},
        lambda: say(f"{agent} is alive; holding {', '.join(held) or 'nothing'}"),
    )


@deck_command()
def doing(
    s: Session,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help='What you are doing now, like "Writing tests".')
    ],
    task: Annotated[
        str | None, typer.Option("--task", metavar="KEY", help="The task (default: yours).")
    ] = None,
) -> None:
    """Set what you are doing right now; the board shows it on you and your task.

    Example: agentdeck doing "Writing the SQL migration" --as coder
    """
    agent = s.agent()
    shown_on = s.deck().doing(agent, text, key=task, board=s.board)
    on = f" (on {shown_on})" if shown_on else ""
    s.emit(
        {"agent": agent, "task": shown_on, "doing": text},
        lambda: say(f"{agent} is doing: {safe(text, one_line=True)}{on}"),
    )


@deck_command(full=True)
def log(
    s: Session,
    key: KeyArgument,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The entry.")],
    kind: Annotated[
        str,
        typer.Option(help="action, tool_call, decision, observation or verification."),
    ] = "action",
    data: Annotated[str | None, typer.Option(help="Extra JSON object to attach.")] = None,
) -> None:
    """Append an entry to a task's log.

    With --json: the entry's id, task and kind; --full for the whole entry.

    Example: agentdeck log WEB-12 "pytest: 42 passed" --kind verification --as coder
    """
    extra = _json_object(data, "--data") if data is not None else None
    entry = s.deck().log(key, text, actor=s.agent(), kind=kind, data=extra)
    from agentdeck.core import views

    s.answer(
        lambda: views.log_receipt(entry),
        entry.to_dict,
        lambda: say(f"logged {entry.subkind} on {entry.task} (#{entry.id})"),
    )


@deck_command()
def usage(
    s: Session,
    key: Annotated[
        str | None, typer.Argument(metavar="KEY", help="The task (default: the board only).")
    ] = None,
    tokens_in: Annotated[int, typer.Option(help="Input tokens.")] = 0,
    tokens_out: Annotated[int, typer.Option(help="Output tokens.")] = 0,
    cost: Annotated[float, typer.Option(help="Cost in USD.")] = 0.0,
    cpu_seconds: Annotated[float, typer.Option(help="CPU seconds.")] = 0.0,
    gpu_seconds: Annotated[float, typer.Option(help="GPU seconds.")] = 0.0,
    model: Annotated[str, typer.Option(help="The model used.")] = "",
) -> None:
    """Record tokens, cost and compute you used (on a task: yours, or as the lead or a human).

    Passing a soft limit prints a warning. Passing a hard limit is still recorded, then stops the work in its scope: its tasks go to Needs human and work verbs there exit 4 until a human raises the limit.

    Example: agentdeck usage WEB-12 --tokens-in 12000 --tokens-out 800 --cost 0.05 --as coder
    """
    crossed = s.deck().record_usage(
        key,
        actor=s.agent(),
        board=s.board,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=cost,
        cpu_seconds=cpu_seconds,
        gpu_seconds=gpu_seconds,
        model=model,
    )

    def render() -> None:
        say(f"recorded usage on {key.upper() if key else 'the board'}")
        for b in crossed:
            name = " ".join(p for p in (b.scope, b.subject, b.metric) if p)
            if b.level == "over":
                warn(
                    f"{name} budget is spent: {amount(b.used)} of {amount(b.hard)}; work in its "
                    "scope is stopped (its tasks wait in Needs human) until a human raises it"
                )
            else:
                warn(f"{name} budget passed its soft limit: {amount(b.used)} of {amount(b.soft)}")

    from agentdeck.core import views

    s.emit(views.usage_receipt(key.upper() if key else None, crossed), render)


@deck_command(full=True)
def submit(
    s: Session,
    key: KeyArgument,
    result: ResultArgument = None,
    verified_by: VerifiedOption = "",
    result_alias: ResultAlias = None,
) -> None:
    """Hand in your work for a human's review.

    With --json: the task's key, status, column and assignee; --full for the whole task.

    Example: agentdeck submit WEB-12 "Login form done" --verified-by "pytest -k login" --as coder
    """
    given = one_text(result, result_alias, "--result", what="result") or ""
    _hand_over(s, "submit", key, result=given, verified_by=verified_by)


@deck_command(full=True)
def done(
    s: Session,
    key: KeyArgument,
    result: ResultArgument = None,
    verified_by: VerifiedOption = "",
    result_alias: ResultAlias = None,
) -> None:
    """Complete a task that needs no approval; say how you verified it.

    With --json: the task's key, status, column, assignee and any nudge; --full for the whole task.

    Example: agentdeck done WEB-12 "Added index" --verified-by "EXPLAIN shows index scan" --as coder
    """
    given = one_text(result, result_alias, "--result", what="result") or ""
    completion = s.deck().complete(key, actor=s.agent(), result=given, verified_by=verified_by)

    def render() -> None:
        say(f"{completion.task.key} is done")
        if completion.nudge:
            warn(completion.nudge)

    from agentdeck.core import views

    s.answer(lambda: views.done_receipt(completion), completion.to_dict, render)


@deck_command(full=True)
def fail(
    s: Session,
    key: KeyArgument,
    reason: Annotated[str, typer.Argument(metavar="REASON", help="Why you are giving up.")],
) -> None:
    """Give up on a task, saying why; a human may reopen it.

    Example: agentdeck fail WEB-12 "the API it needs was removed" --as coder
    """
    _hand_over(s, "fail", key, reason=reason)


@deck_command(full=True)
def escalate(
    s: Session,
    key: KeyArgument,
    reason: Annotated[str, typer.Argument(metavar="REASON", help="What you need from a human.")],
) -> None:
    """Ask a human for help; the task waits in Needs human until answered.

    Example: agentdeck escalate WEB-12 "need credentials for staging" --as coder
    """
    _hand_over(s, "escalate", key, reason=reason)


@deck_command(full=True)
def release(
    s: Session,
    key: KeyArgument,
    note: Annotated[
        str | None,
        typer.Argument(metavar="NOTE", help="Why you are letting it go.", show_default=False),
    ] = None,
    note_alias: Annotated[str | None, typer.Option("--note", hidden=True)] = None,
) -> None:
    """Give a task you hold back to the queue, unassigned.

    Example: agentdeck release WEB-12 "out of my depth on CSS" --as coder
    """
    _hand_over(s, "release", key, note=one_text(note, note_alias, "--note", what="note") or "")


@deck_command()
def checkpoint(
    s: Session,
    key: KeyArgument,
    repo: Annotated[str, typer.Option(help="Git work tree whose HEAD to record.")] = ".",
    sha: Annotated[str | None, typer.Option(help="Record this commit instead of HEAD.")] = None,
    message: Annotated[str, typer.Option(help="Commit message, with --sha.")] = "",
) -> None:
    """Link a git commit (HEAD of --repo, or --sha) to a task.

    Example: agentdeck checkpoint WEB-12 --repo . --as coder
    """
    point = s.deck().checkpoint(key, actor=s.agent(), repo=repo, sha=sha, message=message)
    s.emit(
        point.to_dict(),
        lambda: say(
            f"{point.task}: checkpoint {point.sha[:12]} {safe(point.message, one_line=True)}"
        ),
    )


@deck_command(full=True)
def inbox(
    s: Session,
    peek: Annotated[bool, typer.Option("--peek", help="Leave the messages unread.")] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    cursor: CursorOption = None,
    wait: WaitOption = 0,
    every: AllOption = False,
) -> None:
    """Read your unread messages: assignments, review notes, answers; reading marks them read.

    At most --limit at a time, oldest first; only those shown are marked read. With --json: {"messages": [...], "next_cursor": C or null}; pass --cursor C for the next unread ones. With --all: every unread message, one JSON object per line, each page marked read as it is printed.

    With --wait, when there are none, wait for the first to arrive; none came: an empty list.

    Example: agentdeck inbox --as coder --wait 300 --json
    """
    after = id_after(cursor)
    deck, agent = s.deck(), s.agent()
    if every:
        stream(s, _unread(deck, agent, s.board, mark_read=not peek, after=after))
        return
    found = _waiting(
        s,
        wait,
        f"a message to {agent}",
        lambda seconds, feed: deck.inbox_page(
            agent,
            board=s.board,
            mark_read=not peek,
            limit=limit,
            after_id=after,
            wait=seconds,
            feed=feed,
        ),
    )

    def render(shown: Sequence[Message], next_cursor: str | None) -> None:
        from agentdeck.tui.cli import rich_views

        rich_views.messages(shown)
        more(next_cursor)

    emit_items(s, "messages", found.messages, found.next_cursor, render=render)


def _unread(
    deck: Deck, agent: str, board: str | None, *, mark_read: bool, after: int | None
) -> Iterator[Message]:
    """Every unread message after `after`, a page per read (each page marked read as read)."""
    while True:
        found = deck.inbox_page(
            agent, board=board, mark_read=mark_read, limit=STREAM_PAGE, after_id=after
        )
        yield from found.messages
        if found.next_cursor is None:
            return
        after = int(found.next_cursor)


@deck_command()
def send(
    s: Session,
    to: Annotated[
        str,
        typer.Argument(
            metavar="TO",
            help="A member's name (an agent or a human), or `lead`: the board's lead (with none, its first human).",
        ),
    ],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The message.")],
    task: Annotated[
        str | None,
        typer.Option(
            "--task", metavar="KEY", help="The task it is about; it shows in its log too."
        ),
    ] = None,
) -> None:
    """Send a message to another member of the board: it waits in their inbox (humans read theirs with `agentdeck inbox` too).

    You send as who your credential proves (AGENTDECK_TOKEN, or your credential file); the recipient sees that name. With --task, the message also shows in that task's log. Text is cut like a log entry (64 KiB).

    Example: agentdeck send lead "the schema question blocks WEB-12" --task WEB-12
    """
    sent = s.deck().send(to, text, actor=s.member(), board=s.board, task=task)
    on = f" about {sent.task}" if sent.task else ""
    from agentdeck.core import views

    s.emit(
        views.sent_receipt(sent),
        lambda: say(f"sent to {safe(sent.to, one_line=True)}{on} (#{sent.id})"),
    )


HandOver = Literal["submit", "fail", "escalate", "release"]

# Where each way of letting go of a task leaves it, as printed for people.
_OUTCOME: dict[HandOver, str] = {
    "submit": "is in review",
    "fail": "failed",
    "escalate": "is escalated to a human",
    "release": "is back in the queue",
}


def _hand_over(s: Session, verb: HandOver, key: str, **given: str) -> None:
    """The one body of submit, fail, escalate and release: `Deck.<verb>` on the task the
    acting agent holds, then the task as JSON or one line saying where it went."""
    act: Callable[..., Task] = getattr(s.deck(), verb)
    task = act(key, actor=s.agent(), **given)
    from agentdeck.core import views

    s.answer(lambda: views.receipt(task), task.to_dict, lambda: say(f"{task.key} {_OUTCOME[verb]}"))


def _json_object(raw: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_constant=limits.json_constant)
    except json.JSONDecodeError as exc:
        raise CliError(f"{option} is not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError:
        raise CliError(f"{option} is nested too deeply") from None
    except ValidationError as exc:
        raise CliError(f"{option}: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f"{option} must be a JSON object, like '{{\"tests\": 42}}'")
    return value

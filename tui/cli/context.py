"""Who is acting, on which board, in which database: the options every command shares.

Precedence, strongest first: the command's own option (`agentdeck log ... --as coder`), the same
option before the command (`agentdeck --as coder log ...`), the environment (`AGENTDECK_AS`,
`AGENTDECK_BOARD`, `AGENTDECK_DB`), then a default (the holder of the credential presented:
`AGENTDECK_TOKEN`, else the human's credential file; the only board; the nearest
`.agentdeck/board.db`). Which credentials a command presents and whom they name is decided by
`agentdeck.core.identity`; the rest of `core` (SQLAlchemy) is imported only when a command
actually opens the database.

`deck_command` adds the four shared options to a command and hands it a ready `Session`, so a
command declares only its own arguments (the way sqlite-utils' `output_options` does).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Concatenate

import typer

from agentdeck.core import identity
from agentdeck.tui.cli.errors import describe, warn
from agentdeck.tui.cli.output import print_json

if TYPE_CHECKING:
    from agentdeck.core import Deck

ENV_AS = identity.ENV_AS
ENV_BOARD = "AGENTDECK_BOARD"
ENV_DB = "AGENTDECK_DB"

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH|URL",
        help="Database file or URL (env AGENTDECK_DB; default: the nearest .agentdeck/board.db).",
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        metavar="NAME",
        help="Who is acting (env AGENTDECK_AS); must agree with your credential (AGENTDECK_TOKEN or your credential file).",
    ),
]
BoardOption = Annotated[
    str | None,
    typer.Option(
        "--board",
        metavar="KEY",
        help="Board key (env AGENTDECK_BOARD; default: the only board).",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document (stable field names).")
]
FullOption = Annotated[
    bool,
    typer.Option(
        "--full", help="With --json: the whole models, every field, not the compact answer."
    ),
]
KeyArgument = Annotated[str, typer.Argument(metavar="KEY", help="A task key, like WEB-12.")]
VersionOption = Annotated[
    int | None,
    typer.Option(
        "--expected-version",
        metavar="N",
        help="Refuse (exit 2) if the task changed since you saw version N.",
    ),
]


@dataclass
class SharedOptions:
    """--db/--as/--board/--json given before the command name, e.g. `agentdeck --json ready`."""

    db: str | None = None
    actor: str | None = None
    board: str | None = None
    json: bool = False


before_command = SharedOptions()


class Session:
    """One command's view of the options, and the deck it opens (at most once)."""

    def __init__(
        self,
        db: str | None,
        actor: str | None,
        board: str | None,
        as_json: bool,
        full: bool = False,
    ) -> None:
        self.db = db or before_command.db or identity.from_environment(ENV_DB)
        self.actor = identity.named_actor(actor or before_command.actor)
        self.board = board or before_command.board or identity.from_environment(ENV_BOARD)
        self.json = as_json or before_command.json
        self.full = full
        self._deck: Deck | None = None

    def deck(self, *, create: bool = False) -> Deck:
        """The database, opened on first use; `create` makes a new one where none is found."""
        if self._deck is None:
            from agentdeck.core import Deck

            self._deck = Deck.open(self.db, create=create)
            for warning in self._deck.warnings:
                warn(warning)
            identity.present_credentials(self._deck)
        return self._deck

    def member(self) -> str:
        """Who is acting, by one rule for every command (`identity.acting_name`): --as /
        AGENTDECK_AS, else the holder of the credential presented for this board
        (AGENTDECK_TOKEN, else the human's credential file), else the login name when it
        names a member (refused unless a credential backs it)."""
        return identity.acting_name(self.deck(), self.actor, self.board)

    # The same rule by the name of who a command expects: an agent's verb or a human's.
    agent = member
    human = member

    def creator(self) -> str:
        """Who creates a board: --as / AGENTDECK_AS, else the login name."""
        return identity.creator_name(self.actor)

    def save_credential(self, board: str, name: str) -> str | None:
        """File the token this command minted for human `name` of `board` in the user's
        credential file; where it went, or None if it minted none."""
        deck = self.deck()
        token = deck.issued_token(name, board)
        if token is None:
            return None
        where = identity.database_id(deck.url, deck.path)
        return str(identity.save_credential(where, board, name, token))

    def emit(self, doc: Any, render: Callable[[], None]) -> None:
        """Print `doc` as JSON with --json, otherwise call `render` for people."""
        if self.json:
            print_json(doc)
        else:
            render()

    def answer(
        self, compact: Callable[[], Any], whole: Callable[[], Any], render: Callable[[], None]
    ) -> None:
        """Like `emit`, for a command with --full: with --json its compact answer (a view from
        `agentdeck.core.views`), or with --full the whole models; otherwise `render`."""
        self.emit((whole if self.full else compact)() if self.json else None, render)

    def close(self) -> None:
        """Close the database if this command opened it."""
        if self._deck is not None:
            self._deck.close()
            self._deck = None


@contextmanager
def session(
    db: str | None, actor: str | None, board: str | None, as_json: bool, full: bool = False
) -> Iterator[Session]:
    """Run one command; with --json a failure also prints `{"error": ...}` on stdout, including
    one in reading the options themselves (an `AGENTDECK_*` value that is not UTF-8)."""
    wants_json = as_json or before_command.json
    current: Session | None = None
    try:
        current = Session(db, actor, board, as_json, full)
        yield current
    except Exception as exc:
        if wants_json:
            message, code = describe(exc)
            print_json({"error": {"message": message, "exit_code": code}})
        raise
    finally:
        if current is not None:
            current.close()


SHARED_OPTIONS = {"db": DbOption, "actor": ActorOption, "board": BoardOption, "as_json": JsonOption}


def deck_command(
    *, board: bool = True, full: bool = False
) -> Callable[[Callable[Concatenate[Session, ...], None]], Callable[..., None]]:
    """Give a command --db, --as, --board (unless `board=False`), --json and, with `full`,
    --full (its JSON answer compact by default: `Session.full`), and call it with a `Session`
    built from them as its first argument, inside `session(...)`.

    Typer reads a command's options from its signature, so the wrapper's `__signature__` is
    the command's own parameters (without the session) followed by the shared options.
    """

    def decorate(command: Callable[Concatenate[Session, ...], None]) -> Callable[..., None]:
        own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
        options = {**SHARED_OPTIONS, **({"full": FullOption} if full else {})}
        shared = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation,
                default=False if name in ("as_json", "full") else None,
            )
            for name, annotation in options.items()
            if board or name != "board"
        ]

        @functools.wraps(command)
        def run(**kwargs: Any) -> None:
            db, actor, as_json = kwargs.pop("db"), kwargs.pop("actor"), kwargs.pop("as_json")
            wants_full = kwargs.pop("full", False)
            with session(db, actor, kwargs.pop("board", None), as_json, wants_full) as s:
                command(s, **kwargs)

        signature = inspect.Signature(own + shared, return_annotation=None)
        run.__signature__ = signature  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return run

    return decorate


def split_list(raw: str | None) -> list[str]:
    """`a, b,c` -> ["a", "b", "c"] for comma-separated options like --skills."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def one_text(argument: str | None, alias: str | None, option: str, *, what: str) -> str | None:
    """Free text given positionally (`reject KEY "notes"`) or by its older option, kept as a
    hidden alias (`--notes "..."`): whichever was given, None if neither, an error if both."""
    if argument is not None and alias is not None:
        from agentdeck.tui.cli.errors import CliError

        raise CliError(f"give the {what} once: as an argument or with {option}, not both")
    return argument if argument is not None else alias

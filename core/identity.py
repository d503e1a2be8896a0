"""Who is acting: the one place that turns what a caller was told (the environment, a
credential file, an option, the login) into the credentials a `Deck` presents and the name
it acts under, for the CLI, the console and the MCP server.

An agent presents its token as `AGENTDECK_TOKEN`; a human's tokens live in their own
credential file (`$XDG_CONFIG_HOME/agentdeck/credentials.json`, default
`~/.config/agentdeck/`, mode 0600), one per board, keyed by database. When `AGENTDECK_TOKEN`
is set the file is not read at all: a process started as an agent acts as that agent only.
A name (`--as NAME`, `AGENTDECK_AS`) is only a claim: `Deck` checks it against the
credentials on every call.

Kept free of SQLAlchemy, so an adapter can resolve the actor before it opens a database.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdeck.core import credentials
from agentdeck.core.errors import PermissionDeniedError, StorageError, ValidationError

if TYPE_CHECKING:
    from agentdeck.core.deck import Deck

ENV_AS = "AGENTDECK_AS"
ENV_TOKEN = "AGENTDECK_TOKEN"
CREDENTIAL_FILE = "credentials.json"


def from_environment(name: str) -> str | None:
    """An `AGENTDECK_*` variable's value, or None when unset or empty; bytes that are not
    UTF-8 (which Python hands over as lone surrogates) are refused, like an argument."""
    value = os.environ.get(name) or None
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{name} is not UTF-8 text") from None
    return value


def named_actor(given: str | None) -> str | None:
    """The name given, else `AGENTDECK_AS`, else None."""
    return given or from_environment(ENV_AS)


def acting_name(deck: Deck, given: str | None, board: str | None) -> str:
    """The name `deck` acts under on `board`: one rule for every command, an agent's or a
    human's. The name given (or `AGENTDECK_AS`), else the holder of the credential it
    presents there (`AGENTDECK_TOKEN`, else the human's credential file), else the login name
    when a member of the board has it (`Deck` then refuses it unless a credential backs it,
    saying so; `agentdeck login` accepts it once on a board no human holds a token for yet).
    An `AGENTDECK_TOKEN` that names nobody there is refused (`PermissionDeniedError`) rather
    than read as "nobody said who". Call `present_credentials` first."""
    actor = named_actor(given)
    if actor:
        return actor
    held = deck.whoami(board)
    if held is not None:
        return held.name
    if from_environment(ENV_TOKEN):  # it was presented, and it proves nobody here
        where = f"on board {board.upper()}" if board else "in this database"
        raise PermissionDeniedError(
            f"{ENV_TOKEN} is no member's credential {where} (revoked, replaced by a "
            "rotation, or another board's); ask a human for a new one"
        )
    login = login_name()
    if login is not None and _is_member(deck, login, board):
        return login
    raise ValidationError(
        f"cannot tell who is acting: an agent sets {ENV_TOKEN} to its token (on a board in "
        f"named mode, --as NAME or {ENV_AS} will do); a human saves their credential with "
        "`agentdeck login`"
    )


def _is_member(deck: Deck, name: str, board: str | None) -> bool:
    from agentdeck.core.errors import NotFoundError

    try:
        deck.get_agent(name, board)
    except NotFoundError:
        return False
    return True


def login_name() -> str | None:
    """The operating-system login name, or None where there is none (a container's bare uid)."""
    try:
        return getpass.getuser() or None
    except (KeyError, OSError):
        return None


def creator_name(given: str | None) -> str:
    """Who creates a board (and becomes its first human): the name given, else
    `AGENTDECK_AS`, else the login name."""
    actor = named_actor(given) or login_name()
    if not actor:
        raise ValidationError(f"cannot tell who you are; pass --as NAME or set {ENV_AS}")
    return actor


def credential_path() -> Path:
    """The human's credential file: `$XDG_CONFIG_HOME/agentdeck/credentials.json`, default
    `~/.config/agentdeck/credentials.json`."""
    base = from_environment("XDG_CONFIG_HOME")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "agentdeck" / CREDENTIAL_FILE


def database_id(url: str, path: Path | None) -> str:
    """The key a database's credentials are filed under: a SQLite file's real path, else its
    URL without the password."""
    return str(path.resolve()) if path is not None else url


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"cannot read your credential file {path}: {exc.strerror}") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValidationError(
            f"your credential file {path} is not JSON; fix or remove it"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("databases", {}), dict):
        raise ValidationError(f"your credential file {path} is not an agentdeck credential file")
    return doc


def saved_credentials(database: str) -> dict[str, dict[str, str]]:
    """The human's saved credentials for one database: board key -> {"name", "token"}."""
    boards = _read_file(credential_path()).get("databases", {}).get(database, {})
    if not isinstance(boards, dict):
        return {}
    return {
        str(key): entry
        for key, entry in boards.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("token"), str)
        and isinstance(entry.get("name"), str)
    }


def save_credential(database: str, board: str, name: str, token: str) -> Path:
    """File a human's token for `board` of `database`, replacing any earlier one; the file
    (and its directory) are readable by their owner only, and replaced atomically."""
    path = credential_path()
    doc = _read_file(path)
    doc.setdefault("databases", {}).setdefault(database, {})[board] = {"name": name, "token": token}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp makes it 0600
                json.dump(doc, out, indent=2, sort_keys=True)
                out.write("\n")
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise StorageError(f"cannot save your credential in {path}: {exc.strerror}") from None
    return path


def present_credentials(deck: Deck) -> str | None:
    """Give `deck` the caller's credentials: `AGENTDECK_TOKEN` if set (and then nothing else),
    else every token of the human's credential file for this database. Which was used:
    "token", "credential file", or None when there were none."""
    token = from_environment(ENV_TOKEN)
    if token:
        deck.present(credentials.check_token(token, ENV_TOKEN), credentials.BY_TOKEN)
        return credentials.BY_TOKEN
    saved = saved_credentials(database_id(deck.url, deck.path))
    for entry in saved.values():
        with contextlib.suppress(ValidationError):  # a damaged entry proves nothing
            deck.present(entry["token"], credentials.BY_FILE)
    return credentials.BY_FILE if saved else None

"""The errors `Deck` raises: one line each, naming the task and what is allowed.

Every error carries the exit code the CLI documents, so adapters never guess:
1 usage or not found, 2 refused transition or conflict, 3 nothing ready, 4 over budget,
5 database busy or unavailable.
"""

from __future__ import annotations


class DeckError(Exception):
    """Base of every error agentdeck reports to a user; its message is one line."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\n", " "))

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFoundError(DeckError):
    """A board, agent or task that does not exist."""


class ValidationError(DeckError):
    """Input that is malformed or over a size limit."""


class InvalidTransitionError(DeckError):
    """A lifecycle move the task's current status does not allow."""

    exit_code = 2


class PermissionDeniedError(DeckError):
    """A move this actor may not make (an agent approving, approving one's own work)."""

    exit_code = 2


class NotAuthenticatedError(PermissionDeniedError):
    """A credential no member holds (unknown, revoked or malformed): who is calling is unknown."""


class ConflictError(DeckError):
    """The task changed since the caller saw it (stale `expected_version`)."""

    exit_code = 2


class CycleError(DeckError):
    """A dependency that would make a task wait on itself."""

    exit_code = 2


class LeaseExpiredError(DeckError):
    """An update from an agent that no longer holds the task."""

    exit_code = 2


class GitRefusedError(DeckError):
    """Git refused or failed (a dirty work tree, a commit that is not the task's), or a
    rollback would lose work; nothing was changed."""

    exit_code = 2


class NothingReadyError(DeckError):
    """No ready task this agent may claim."""

    exit_code = 3


class OverBudgetError(DeckError):
    """A hard budget in this scope is exhausted."""

    exit_code = 4


class DatabaseBusyError(DeckError):
    """The database stayed locked by another writer for longer than the timeout."""

    exit_code = 5


class StorageError(DeckError):
    """The database could not be written or read: a full disk, a quota or file-size limit, or
    failing storage. The transaction was rolled back; the same call works once there is room.
    (From a resident writer that stopped mid-call, the call may or may not have been applied;
    the message says so.)"""

    exit_code = 5


class SchemaError(DeckError):
    """The database was written by a newer agentdeck, or is not an agentdeck database."""

    exit_code = 5

"""agentdeck's core: the domain, storage and queries, usable without a terminal.

`from agentdeck.core import Deck` is the front door; its errors are exported beside it. `Deck`
is loaded on first use, so an adapter can import `agentdeck.core.identity` or the errors
without paying for SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdeck.core.errors import (
    ConflictError,
    CycleError,
    DatabaseBusyError,
    DeckError,
    GitRefusedError,
    InvalidTransitionError,
    LeaseExpiredError,
    NotAuthenticatedError,
    NotFoundError,
    NothingReadyError,
    OverBudgetError,
    PermissionDeniedError,
    SchemaError,
    StorageError,
    ValidationError,
)

__all__ = [
    "ConflictError",
    "CycleError",
    "DatabaseBusyError",
    "Deck",
    "DeckError",
    "GitRefusedError",
    "InvalidTransitionError",
    "LeaseExpiredError",
    "NotAuthenticatedError",
    "NotFoundError",
    "NothingReadyError",
    "OverBudgetError",
    "PermissionDeniedError",
    "SchemaError",
    "StorageError",
    "ValidationError",
]


if TYPE_CHECKING:
    from agentdeck.core.deck import Deck


def __getattr__(name: str) -> Any:
    """`Deck` on first use (PEP 562)."""
    if name == "Deck":
        from agentdeck.core.deck import Deck

        return Deck
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""agentdeck's core: the domain, storage and queries, usable without a terminal.

`from core import Deck` is the front door; errors and read models are exported beside it.
"""

from agentdeck.core.deck import Deck
from agentdeck.core.errors import (
    ConflictError,
    CycleError,
    DatabaseBusyError,
    DeckError,
    InvalidTransitionError,
    LeaseExpiredError,
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
    "InvalidTransitionError",
    "LeaseExpiredError",
    "NotFoundError",
    "NothingReadyError",
    "OverBudgetError",
    "PermissionDeniedError",
    "SchemaError",
    "StorageError",
    "ValidationError",
]

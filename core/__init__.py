"""agentdeck's core: the domain, storage and queries, usable without a terminal.

`from core import Deck` is the front door; errors and read models are exported beside it.
"""

from core.errors import (
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
from core.store import Deck

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

"""`Deck`: the one front door to agentdeck's data.

The CLI, the MCP server, the TUI and the demo agents all call it; none of them writes SQL.
Each verb is one short transaction that appends its events; results are frozen read models.
The verbs are grouped by concept in the mixins this class combines.
"""

from __future__ import annotations

from core.boards import BoardsMixin
from core.events import EventsMixin
from core.inbox import InboxMixin
from core.knowledge import KnowledgeMixin
from core.portability import PortabilityMixin


class Deck(EventsMixin, BoardsMixin, KnowledgeMixin, InboxMixin, PortabilityMixin):
    """A task store many agents write to at once. Open with `Deck.open(path_or_url)`."""

"""`Deck`: the one front door to agentdeck's data.

The CLI, the MCP server, the TUI and the demo agents all call it; none of them writes SQL.
Each verb is one short transaction that appends its events; results are frozen read models.
The verbs are grouped by concept in the mixins this class combines.
"""

from __future__ import annotations

from agentdeck.core.boards import BoardsMixin
from agentdeck.core.formats.importers import ImportersMixin
from agentdeck.core.formats.native import PortabilityMixin
from agentdeck.core.inbox import InboxMixin
from agentdeck.core.knowledge import KnowledgeMixin
from agentdeck.core.metrics import MetricsMixin
from agentdeck.core.report import ReportMixin


class Deck(
    ImportersMixin,
    BoardsMixin,
    KnowledgeMixin,
    InboxMixin,
    PortabilityMixin,
    MetricsMixin,
    ReportMixin,
):
    """A task store many agents write to at once. Open with `Deck.open(path_or_url)`."""

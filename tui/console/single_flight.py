"""At most one load in flight and at most one queued behind it.

A burst of change hints (file events, notifications, key presses) becomes two loads, never a
pile of overlapping workers; the queued one picks up whatever the running one missed.
"""

from __future__ import annotations


class SingleFlight:
    """The gate a screen's refresh goes through."""

    def __init__(self) -> None:
        self.running = False
        self._again = False

    def start(self) -> bool:
        """True if the caller should start a load now; otherwise one is queued."""
        if self.running:
            self._again = True
            return False
        self.running, self._again = True, False
        return True

    def finish(self) -> bool:
        """Mark the running load done; True if a queued load should start."""
        self.running = False
        return self._again

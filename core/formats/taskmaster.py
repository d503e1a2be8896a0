"""Placeholder for the Taskmaster reader (issue #16, written on another branch)."""

from __future__ import annotations

from pathlib import Path

from agentdeck.core.errors import ValidationError
from agentdeck.core.formats.mirror import Incoming, ReadNotes


def read_taskmaster(
    path: str | Path, *, tag: str | None = None, status_map: dict[str, str] | None = None
) -> tuple[list[Incoming], ReadNotes]:
    raise ValidationError("not built yet")

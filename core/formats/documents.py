"""Reading untrusted JSON documents field by field, with errors that name the exact path."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError

_MISSING = object()
_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


class Doc:
    """A JSON object (or any value) at a path like `tasks[3]`, with typed accessors."""

    def __init__(self, value: Any, path: str) -> None:
        self.value, self.path = value, path

    def _field(self, name: str) -> Any:
        if not isinstance(self.value, dict):
            raise ValidationError(f"{self.path}: expected an object")
        return self.value.get(name, _MISSING)

    def get(self, name: str, kind: type) -> Any:
        """A required field of the given JSON type."""
        value = self._field(name)
        if value is _MISSING or value is None:
            raise ValidationError(f"{self.path}.{name}: missing")
        return _typed(value, kind, f"{self.path}.{name}")

    def opt(self, name: str, kind: type, default: Any) -> Any:
        """An optional field; null or absent gives `default`."""
        value = self._field(name)
        if value is _MISSING or value is None:
            return default
        return _typed(value, kind, f"{self.path}.{name}")

    def check(
        self, name: str, kind: type, rule: Callable[[Any], Any], default: Any = _MISSING
    ) -> Any:
        """A field (required unless a default is given) passed through a `limits` rule, with
        the field's path named when the rule refuses it."""
        value = self.get(name, kind) if default is _MISSING else self.opt(name, kind, default)
        try:
            return rule(value)
        except ValidationError as exc:
            raise ValidationError(f"{self.path}.{name}: {exc}") from None

    def time(self, name: str) -> datetime:
        return parse_time(self.get(name, str), f"{self.path}.{name}")

    def opt_time(self, name: str) -> datetime | None:
        raw = self.opt(name, str, None)
        return parse_time(raw, f"{self.path}.{name}") if raw is not None else None

    def obj(self, name: str) -> Doc:
        return Doc(self.get(name, dict), f"{self.path}.{name}" if self.path != "document" else name)

    def list(self, name: str) -> list[Doc]:
        """The items of an optional list field (absent means empty)."""
        items = self.opt(name, list, [])
        return [Doc(v, f"{name}[{i}]") for i, v in enumerate(items)]


def _typed(value: Any, kind: type, path: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool):
        raise ValidationError(f"{path}: expected {_TYPE_NAMES[int]}")
    if not isinstance(value, kind):
        raise ValidationError(
            f"{path}: expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {type(value).__name__}"
        )
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValidationError(f"{path}: {str(value)[:20]}… is out of range")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{path}: expected a finite number, got {value}")
    if isinstance(value, str):  # a JSON \u escape can carry NUL or a lone surrogate
        return limits.storable(value)
    return value


def parse_time(raw: str, path: str) -> datetime:
    """An RFC 3339 / ISO 8601 time; naive times are taken as UTC."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{path}: {raw[:40]!r} is not an ISO 8601 time") from None
    if not value.tzinfo:
        return value.replace(tzinfo=UTC)
    try:  # times are stored as UTC: 0001-01-01T00:00+05:00 has no UTC year
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(f"{path}: {raw[:40]!r} is out of range in UTC") from None
    return value

"""`core` is usable without a terminal: importing it, or any module in it, in a fresh
interpreter loads none of the terminal-interface libraries."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("textual", "rich", "plotext", "textual_plotext")
# Alembic runs env.py itself, inside a migration; importing it on its own has no config.
NOT_IMPORTABLE_ALONE = {"agentdeck.core.storage.migrations.env"}

PROBE = """
import importlib, json, pkgutil, sys
forbidden = {forbidden!r}
skip = {skip!r}
first = {first!r}
seen = {{}}
modules = list(first)
import agentdeck.core
modules += sorted(
    m.name for m in pkgutil.walk_packages(agentdeck.core.__path__, "agentdeck.core.") if m.name not in skip
)
for name in modules:
    importlib.import_module(name)
    loaded = sorted(
        top for top in forbidden if any(m == top or m.startswith(top + ".") for m in sys.modules)
    )
    if loaded and name not in seen:
        seen[name] = loaded
        break
print(json.dumps({{"modules": modules, "culprits": seen}}))
"""


def probe(first: tuple[str, ...] = ()) -> dict[str, object]:
    """Import `first`, then `core` and every module in it, in a fresh interpreter; report the
    first module after which a forbidden library was in `sys.modules`."""
    code = PROBE.format(forbidden=FORBIDDEN, skip=NOT_IMPORTABLE_ALONE, first=first)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_core_imports_no_terminal_library() -> None:
    """Every module of core imports cleanly without textual, rich or plotext."""
    result = probe()
    assert "agentdeck.core.deck" in result["modules"] and "agentdeck.core.work" in result["modules"]
    assert result["culprits"] == {}


@pytest.mark.parametrize("library", ["rich", "textual"])
def test_probe_notices_a_terminal_library(library: str) -> None:
    """The probe itself is not blind: a library imported first is reported."""
    culprits = probe((library,))["culprits"]
    assert isinstance(culprits, dict) and list(culprits) == [library]
    assert library in culprits[library]


def test_every_package_folder_is_installed() -> None:
    """pyproject.toml lists every folder with an `__init__.py` under its installed name, so a
    new sub-package is not left out of a wheel (an editable install would hide that)."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        "agentdeck." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("core", "tui")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert folders == listed

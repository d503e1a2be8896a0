"""Where a test's database lives: a SQLite file, or a fresh schema on the PostgreSQL server that
`.ci/run` starts (its URL in AGENTDECK_TEST_PG).

Without that variable PostgreSQL cases are skipped locally; CI sets AGENTDECK_REQUIRE_PG=1 so a
missing server fails the run instead of silently skipping half the suite.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

PG_ENV = "AGENTDECK_TEST_PG"
REQUIRE_ENV = "AGENTDECK_REQUIRE_PG"
BACKENDS = ("sqlite", "postgres")


def postgres_base() -> str:
    """The server URL, or skip (fail in CI) when no server was started."""
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(
                f"{PG_ENV} is not set but {REQUIRE_ENV} is: .ci/run should have started PostgreSQL"
            )
        pytest.skip(f"no PostgreSQL server ({PG_ENV} unset); .ci/run starts one")
    return base


def database_url(backend: str, tmp_path: Path) -> str:
    """A fresh, empty database for one test on the given backend."""
    if backend == "sqlite":
        return str(tmp_path / "board.db")
    base = postgres_base()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"

"""Where a test's database lives: a SQLite file, or a fresh schema on the PostgreSQL server that
`.ci/run` starts (its URL in AGENTDECK_TEST_PG).

Without that variable PostgreSQL cases are skipped locally; CI sets AGENTDECK_REQUIRE_PG=1 so a
missing server fails the run instead of silently skipping half the suite.

Migrating an empty database (Alembic, eleven revisions) costs 0.1 s on SQLite and 0.2-0.35 s on
PostgreSQL, more than most tests' own work. The fixtures that need an empty, migrated deck get
one migrated once per test process instead (`migrate_from_template`): on SQLite a copy of its
file, on PostgreSQL, which cannot copy a schema, the statements the migration sent, sent again
in one go (50-100 ms); `tests/core/storage/test_migrations.py` checks that both give what
migrating gives. Tests of migrating itself start from `database_url`'s empty database.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any
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


def migrate_from_template(url: str) -> None:
    """Make the empty database at `url` (from `database_url`) a migrated one, as
    `Deck.open(url, create=True)` would, from a database migrated once in this process."""
    if "://" not in url:
        if Path(url).exists():
            raise FileExistsError(f"{url} is not empty: nothing is copied over a database")
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), url)
        return
    statements = _postgres_migration()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(";\n".join(statements))
    finally:
        engine.dispose()


@functools.cache
def _sqlite_template() -> str:
    """A migrated SQLite file of this process's own, made on first use."""
    folder = tempfile.mkdtemp(prefix="agentdeck-template-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, "board.db")
    _migrate(path)
    # Closing the last connection checkpointed the WAL: the file alone is the database.
    assert not os.path.exists(f"{path}-wal")
    return path


@functools.cache
def _postgres_migration() -> list[str]:
    """The statements that migrating an empty schema sends, but its reads (the reflection, the
    advisory lock), recorded on first use by migrating one. They are sent again as one text,
    which takes no parameters: a migration that binds some fails here, saying so."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, text: str, parameters: Any, *_: Any) -> None:
        if not text.lstrip().upper().startswith("SELECT"):
            assert not parameters, f"a migration statement binds parameters: {text[:80]}"
            sent.append(text)

    url = database_url("postgres", Path())
    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        _migrate(url)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)
    assert any(text.startswith("CREATE TABLE") for text in sent), "nothing recorded"
    return sent


def _migrate(url: str) -> None:
    """Migrate the empty database at `url`, as opening it for the first time does."""
    from agentdeck.core import Deck

    Deck.open(url, create=True).close()

"""Bring a database to this version's schema on open, or refuse one from a newer version.

The common case (already at head) costs one query (two on PostgreSQL) and never imports Alembic, which keeps
CLI start-up cheap. Migration runs under the write lock so processes opening a fresh
database at the same moment do not race each other.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from agentdeck.core.errors import SchemaError
from agentdeck.core.storage.engine import WRITE_OPTION, is_sqlite

# Every revision this version knows, oldest first; the last is the head.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011")
HEAD = REVISIONS[-1]
MIGRATION_LOCK = 0x61676E74  # "agnt": the PostgreSQL advisory lock taken while migrating


def current_revision(conn: sa.Connection) -> str | None:
    """The stored schema revision, or None for an empty database."""
    if conn.dialect.name != "sqlite" and (
        conn.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is not None
    ):
        # Every open runs this: one lookup by name, where listing the tables visible on the
        # search path checks every relation of the database (0.1 s once it holds 150,000).
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    inspector_tables = _table_names(conn)
    if "alembic_version" not in inspector_tables:
        if inspector_tables - {"sqlite_sequence"}:
            raise SchemaError(
                "this database has tables but is not an agentdeck database; pass another --db"
            )
        return None
    # Straight to the driver: every open runs this, and compiling it would cost more than it.
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _table_names(conn: sa.Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")
        return {r[0] for r in rows}
    return set(sa.inspect(conn).get_table_names())


def _check_known(revision: str | None) -> None:
    if revision is not None and revision not in REVISIONS:
        raise SchemaError(
            f"this database has schema {revision}, newer than this agentdeck knows "
            f"(up to {HEAD}); upgrade agentdeck to open it"
        )


def ensure_schema(engine: sa.Engine) -> None:
    """Apply pending migrations, or raise `SchemaError` for a database from a newer version."""
    with engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
    _check_known(revision)
    if revision == HEAD:
        return
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        if not is_sqlite(engine):
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        # Re-read under the lock: another process may have migrated meanwhile.
        revision = current_revision(conn)
        _check_known(revision)
        if revision != HEAD:
            _upgrade(conn)


def _upgrade(conn: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")

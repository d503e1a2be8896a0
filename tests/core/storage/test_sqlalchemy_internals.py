"""What the driver-level path (`agentdeck.core.storage.prepared`, `.sqlite_connections`) takes
from SQLAlchemy beyond its documented API, checked on the installed version.

pyproject.toml pins SQLAlchemy below the next minor version; when that pin moves, this file
says at once which internal the new version no longer has, instead of the hot verbs failing
in odd ways. `test_prepared.py` then checks the results match SQLAlchemy's own execution.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from agentdeck.core.storage import prepared

_t = sa.table("t", sa.column("id", sa.Integer), sa.column("status", sa.String))
_meta = sa.MetaData()
_with_default = sa.Table(
    "d",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String, default="x"),
)


def _compiled(
    statement: sa.Executable, dialect: sa.Dialect, keys: list[str] | None = None
) -> sa.engine.Compiled:
    return statement.compile(dialect=dialect, column_keys=keys)  # type: ignore[attr-defined,no-any-return]


def test_compiled_select_has_result_columns_with_keynames_and_types() -> None:
    compiled = _compiled(sa.select(_t.c.id, _t.c.status.label("state")), sqlite.dialect())
    columns = compiled._result_columns  # type: ignore[attr-defined]
    assert [c.keyname for c in columns] == ["id", "state"]
    assert all(isinstance(c.type, sa.types.TypeEngine) for c in columns)


def test_positional_dialects_list_bind_names_in_order() -> None:
    statement = sa.select(_t.c.id).where(
        _t.c.id == sa.bindparam("a"), _t.c.status == sa.bindparam("b")
    )
    compiled = _compiled(statement, sqlite.dialect())
    assert compiled.positional and list(compiled.positiontup or ()) == ["a", "b"]  # type: ignore[attr-defined]
    assert not _compiled(statement, postgresql.psycopg.dialect()).positional


def test_bind_parameters_expose_how_their_values_arise() -> None:
    statement = sa.select(_t.c.id).where(
        _t.c.id == sa.bindparam("given"),
        _t.c.status == "done",
        _t.c.id.in_(sa.bindparam("ids", expanding=True)),
    )
    compiled = _compiled(statement, sqlite.dialect())
    binds = {name: bind for bind, name in compiled.bind_names.items()}  # type: ignore[attr-defined]
    assert binds["given"].required and binds["given"].callable is None
    literal = next(b for n, b in binds.items() if n not in ("given", "ids"))
    assert not literal.required and literal.value == "done"
    assert binds["ids"].expanding


def test_expanding_lists_compile_to_the_postcompile_marker() -> None:
    statement = sa.select(_t.c.id).where(_t.c.id.in_(sa.bindparam("ids", expanding=True)))
    assert prepared._POSTCOMPILE.format("ids") in _compiled(statement, sqlite.dialect()).string


def test_column_defaults_are_prefetched_for_inserts() -> None:
    compiled = _compiled(_with_default.insert(), sqlite.dialect(), ["id"])
    assert compiled.isinsert  # type: ignore[attr-defined]
    assert [c.key for c in compiled.insert_prefetch] == ["kind"]  # type: ignore[attr-defined]
    assert compiled.update_prefetch == []  # type: ignore[attr-defined]
    assert _with_default.c.kind.default.is_scalar  # type: ignore[union-attr]


def test_connections_expose_the_driver_dispatch_and_error_wrapping(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None and hasattr(driver, "in_transaction")
            assert hasattr(conn.dispatch, "before_cursor_execute")
            assert hasattr(conn.dispatch, "after_cursor_execute")
            error = conn.dialect.loaded_dbapi.Error
            wrapped = sa.exc.DBAPIError.instance("SELECT 1", (), error("boom"), error)
            assert isinstance(wrapped, sa.exc.DBAPIError) and "boom" in str(wrapped)
    finally:
        engine.dispose()

"""Statements compiled once per backend and run straight on the driver: the hot verbs' path.

SQLAlchemy's per-execution machinery (execution context, parameter processing, result
wrapping, events) costs 60-80 µs a statement, several times what SQLite needs to run one.
The verbs agents call thousands of times (log, claim, usage, complete) run a few fixed
statements, so those are written once in SQLAlchemy Core, compiled once per backend and
parameter shape by SQLAlchemy itself (the same SQL, the same type conversions for times and
JSON), and handed to the DBAPI cursor of the transaction's own connection. Driver errors are
wrapped as SQLAlchemy would wrap them, so `translate_busy` and callers see the same errors, and
the engine's cursor events still fire, so statement logging and timing see these statements.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# Rows are read-only to callers (plain dicts underneath, built once per row).
Row = Mapping[str, Any]
_Processor = Callable[[Any], Any] | None
_POSTCOMPILE = "__[POSTCOMPILE_{}]"


@dataclass
class _Form:
    """One compiled shape of a statement: its SQL and how to bind and read values."""

    dialect: sa.Dialect
    sql: str
    positional: bool
    names: tuple[str, ...]  # bind names in positional order (positional paramstyles)
    defaults: Mapping[str, Any]  # literal values the statement carries (`status == "done"`)
    made: Mapping[str, Callable[[], Any]]  # values computed per execution (column defaults)
    binders: tuple[tuple[str, Callable[[Any], Any]], ...]  # names whose values need converting
    lists: tuple[str, ...]  # parameters given as lists, expanded into name_1, name_2, ...
    keys: tuple[str, ...]  # result column names
    types: tuple[Any, ...]  # their SQLAlchemy types, made dialect-specific
    readers: tuple[_Processor, ...] | None = None  # set on first use: they may depend on the
    # type the driver reports (PostgreSQL numerics)

    def __post_init__(self) -> None:
        # The positional values in order, picked in C: `itemgetter` of one name gives a value,
        # not a tuple, so that case (and none) is wrapped.
        names = self.names
        if len(names) > 1:
            self.pick: Callable[[Mapping[str, Any]], Any] = operator.itemgetter(*names)
        elif names:
            only = names[0]
            self.pick = lambda values: (values[only],)
        else:
            self.pick = lambda values: ()


class Prepared:
    """A SQLAlchemy Core statement, run through the driver with SQLAlchemy's compiled SQL.

    Parameters are given by bind name (or column name, for INSERT and UPDATE values); a list
    for an expanding `IN` parameter. Results are read-only mappings keyed by column label.
    """

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._forms: dict[tuple[Any, ...], _Form] = {}
        # The same forms without list parameters, by backend and parameter names in the order
        # given: a call site passes the same names in the same order every time, so this finds
        # its form without working out the parameters' shape.
        self._plain: dict[tuple[str, tuple[str, ...]], _Form] = {}

    # -- running ------------------------------------------------------------------------------

    def rows(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Every result row, as a read-only mapping."""
        form, cursor = self._run(conn, params or {})
        keys, readers = _columns(form, cursor)
        return [_read(keys, readers, row) for row in cursor.fetchall()]

    def first(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> Row | None:
        """The first result row as a dict, or None."""
        form, cursor = self._run(conn, params or {})
        row = cursor.fetchone()
        return None if row is None else _read(*_columns(form, cursor), row)

    def scalar(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(conn, params)
        return None if row is None else next(iter(row.values()))

    def scalars(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The first column of every row."""
        return [next(iter(row.values())) for row in self.rows(conn, params)]

    def run(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> int:
        """Execute for its effect; the number of rows it changed."""
        _, cursor = self._run(conn, params or {})
        return int(cursor.rowcount)

    def run_many(self, conn: sa.Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set (all sets must have the same keys), e.g. a batch insert."""
        if not params:
            return
        form = self._form(conn.dialect, params[0])
        _execute(conn, form.sql, [_bind(form, p) for p in params], many=True)

    def _run(self, conn: sa.Connection, params: Mapping[str, Any]) -> tuple[_Form, Any]:
        form = self._form(conn.dialect, params)
        return form, _execute(conn, form.sql, _bind(form, params), many=False)

    # -- compiling ----------------------------------------------------------------------------

    def _form(self, dialect: sa.Dialect, params: Mapping[str, Any]) -> _Form:
        plain = (dialect.name, tuple(params))
        form = self._plain.get(plain)
        if form is not None:
            return form
        expanding = tuple(
            (name, len(value)) for name, value in params.items() if isinstance(value, list)
        )
        shape = (dialect.name, frozenset(params), expanding)
        form = self._forms.get(shape)
        if form is None:
            if len(self._forms) > 64:
                self._forms.clear()
                self._plain.clear()
            form = self._forms[shape] = _compile(self.statement, dialect, params, dict(expanding))
        if not expanding:
            self._plain[plain] = form
        return form


def _compile(
    statement: sa.Executable, dialect: sa.Dialect, params: Mapping[str, Any], sizes: dict[str, int]
) -> _Form:
    sizes = dict(sizes)  # literal IN lists are added below
    compiled = statement.compile(dialect=dialect, column_keys=list(params))  # type: ignore[attr-defined]
    sql = compiled.string
    positional = bool(compiled.positional)
    names: list[str] = list(compiled.positiontup or ()) if positional else []
    defaults: dict[str, Any] = {}
    made: dict[str, Callable[[], Any]] = {}
    binders: dict[str, _Processor] = {}
    for bind, name in compiled.bind_names.items():
        if bind.callable is not None:
            made[name] = bind.callable
        elif bind.expanding and not bind.required:
            # A literal IN list (`status.in_(("done", "cancelled"))`): fixed, so expand it now.
            sizes[name] = len(bind.value)
            defaults.update({f"{name}_{i}": v for i, v in enumerate(bind.value, 1)})
        elif not bind.required:
            defaults[name] = bind.value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and _is_time(bind.type):
            process = _time_binder(dialect, bind.type, process)
        binders[name] = process
    # Column defaults SQLAlchemy would compute before an INSERT or UPDATE (`subkind=""`).
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if compiled.isinsert else column.onupdate
        if default is None:
            continue
        if default.is_scalar:
            defaults[column.key] = default.arg
        elif default.is_callable:
            made[column.key] = functools.partial(default.arg, None)
    for name, size in sizes.items():
        # An expanding IN list: one placeholder per element, named name_1, name_2, ...
        element_names = [f"{name}_{i}" for i in range(1, size + 1)]
        if positional:
            placeholders = ", ".join("?" for _ in element_names)
            at = names.index(name)
            names[at : at + 1] = element_names
        else:
            placeholders = ", ".join(f"%({n})s" for n in element_names)
        sql = sql.replace(_POSTCOMPILE.format(name), placeholders or "NULL")
        process = binders.pop(name, None)
        binders.update({n: process for n in element_names})
    keys = tuple(column.keyname for column in compiled._result_columns)
    types = tuple(column.type.dialect_impl(dialect) for column in compiled._result_columns)
    converted = tuple((name, process) for name, process in binders.items() if process is not None)
    lists = tuple(name for name in params if isinstance(params[name], list))
    return _Form(
        dialect, sql, positional, tuple(names), defaults, made, converted, lists, keys, types
    )


def _is_time(type_: Any) -> bool:
    return isinstance(type_, sa.DateTime) or isinstance(
        getattr(type_, "impl_instance", None), sa.DateTime
    )


# Per backend and time type, one converter shared by every statement: see `_remembering`.
_TIME_BINDERS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def _time_binder(dialect: sa.Dialect, type_: Any, process: Callable[[Any], Any]) -> Any:
    kind = type(type_)
    key = (dialect.name, f"{kind.__module__}.{kind.__qualname__}:{type_!r}")
    shared = _TIME_BINDERS.get(key)
    if shared is None:
        shared = _TIME_BINDERS[key] = _remembering(process)
    return shared


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process` (a time's bind conversion), remembering its last few answers by the very
    object converted: a transaction binds its one time (`tx.now`) in most of its statements,
    and converting a time costs more than the rest of binding a statement. Times are
    immutable, and an entry holds its object, so an identity match is the same value."""
    seen: dict[int, tuple[Any, Any]] = {}

    def convert(value: Any) -> Any:
        hit = seen.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        converted = process(value)
        if len(seen) >= 8:
            seen.clear()
        seen[id(value)] = (value, converted)
        return converted

    return convert


def _bind(form: _Form, params: Mapping[str, Any]) -> Any:
    values = {**form.defaults, **params}
    for name in form.lists:
        values.update({f"{name}_{i}": v for i, v in enumerate(values.pop(name), 1)})
    for name, make in form.made.items():
        if name not in params:
            values[name] = make()
    for name, process in form.binders:
        if name in values:
            values[name] = process(values[name])
    return form.pick(values) if form.positional else values


def _columns(form: _Form, cursor: Any) -> tuple[tuple[str, ...], tuple[_Processor, ...]]:
    """The result columns' names and readers; for textual SQL, the names the driver reports."""
    description = cursor.description
    if not form.keys:
        return tuple(d[0] for d in description or ()), (None,) * len(description or ())
    if form.readers is None:
        form.readers = tuple(
            type_.result_processor(form.dialect, column[1])
            for type_, column in zip(form.types, description, strict=True)
        )
    return form.keys, form.readers


def _read(keys: tuple[str, ...], readers: tuple[_Processor, ...], row: Sequence[Any]) -> Row:
    return {
        key: (value if read is None else read(value))
        for key, read, value in zip(keys, readers, row, strict=True)
    }


def _execute(conn: sa.Connection, sql: str, args: Any, *, many: bool) -> Any:
    """Run on the driver's cursor, firing the engine's cursor events around it."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(conn, cursor, sql, args, None, many)
    try:
        if many:
            cursor.executemany(sql, args)
        else:
            cursor.execute(sql, args)
    except _dbapi_error(conn) as exc:
        raise _wrapped(conn, sql, exc) from exc
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(conn, cursor, sql, args, None, many)
    return cursor


def _dbapi_error(conn: sa.Connection) -> type[Exception]:
    return conn.dialect.loaded_dbapi.Error  # type: ignore[no-any-return]


def _wrapped(conn: sa.Connection, sql: str, exc: Exception) -> sa.exc.StatementError:
    return sa.exc.DBAPIError.instance(sql, (), exc, _dbapi_error(conn))

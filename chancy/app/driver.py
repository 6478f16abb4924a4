"""psycopg connections and cursors wherever the app takes a SQLAlchemy one.

Upstream Chancy handed out psycopg connections (``async with chancy.pool.connection()
as conn``) and its ``*_ex`` methods took a psycopg cursor. Code written that way keeps
working: :func:`executable` puts a psycopg ``AsyncConnection``/``AsyncCursor`` (or the
sync ``Connection``/``Cursor``) behind the one method the app uses, ``execute(statement,
params)``, returning a SQLAlchemy :class:`~sqlalchemy.engine.Result`. The statements are
the same builders' statements, compiled with the app's own dialect, so bind and result
processing match what the engine would do. Nothing here commits or rolls back: the
caller's transaction decides.

:class:`DriverPool` is ``chancy.pool``: psycopg connections checked out of the app
engine's own pool (the SQLAlchemy pool, so there is one pool to size, open and close),
with psycopg_pool's semantics: commit when the block ends, roll back if it raises.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.types.string import TextLoader
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from chancy.db import engine as engines

__all__ = [
    "AsyncDriverPool",
    "DriverPool",
    "HotStatement",
    "executable",
    "leased_connection",
    "psycopg_connection",
    "translating_errors",
]

#: What the ``*_ex`` methods accept as ``cursor``: anything that executes statements
#: (a session, a connection, or psycopg's own connection or cursor), async or sync.
AsyncConnectionLike = AsyncSession | AsyncConnection | psycopg.AsyncConnection | psycopg.AsyncCursor
SyncConnectionLike = Session | sa.Connection | psycopg.Connection | psycopg.Cursor
Params = dict[str, Any] | Sequence[dict[str, Any]] | None


class DriverResult(IteratorResult[Any]):
    """A Result over rows already fetched from a psycopg cursor, with its ``rowcount``."""

    def __init__(self, keys: list[str], rows: list[Any], rowcount: int) -> None:
        super().__init__(SimpleResultMetaData(keys), iter(rows))
        self.rowcount = rowcount


def _prepare(statement: Any, params: Params, dialect: sa.Dialect) -> tuple[str, Any, Any]:
    """SQL text and processed parameters (a list of them for executemany)."""
    compiled = statement.compile(dialect=dialect)
    many = isinstance(params, Sequence) and not isinstance(params, dict)
    batches = list(params) if many else [params or {}]  # type: ignore[arg-type]
    sql = ""
    processed = []
    for batch in batches:
        state = compiled.construct_expanded_state(batch or None, escape_names=False)
        sql = state.statement
        values = dict(state.parameters)
        # The engine applies the compiled statement's bind processors (JSON, arrays ...)
        # plus those of expanded IN parameters; SQLAlchemy 2.0 and 2.1 keep the former in
        # ``_bind_processors``, which its own execution context reads the same way.
        processors = {**compiled._bind_processors, **state.processors}
        for name, process in processors.items():
            if name in values:
                values[name] = process(values[name])
        escaped = compiled.escaped_bind_names  # names the SQL text spells differently
        processed.append({escaped.get(k, k): v for k, v in values.items()})
    return sql, (processed if many else processed[0]), compiled


def _result(cursor: Any, rows: list[Any], compiled: Any, dialect: sa.Dialect) -> DriverResult:
    """Rows through the same result processors the engine would apply."""
    description = cursor.description or []
    keys = [column.name for column in description]
    columns = getattr(compiled, "_result_columns", None) or []
    processors: list[Callable[[Any], Any] | None] = [None] * len(keys)
    if len(columns) == len(keys):
        for i, (column, described) in enumerate(zip(columns, description, strict=True)):
            processors[i] = column.type._cached_result_processor(dialect, described.type_code)
            keys[i] = column.keyname
    if any(processors):
        rows = [
            tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)) for row in rows
        ]
    return DriverResult(keys, rows, cursor.rowcount)


class _AsyncDriver:
    """A psycopg async connection or cursor with the ``execute`` the app calls."""

    def __init__(self, target: psycopg.AsyncConnection | psycopg.AsyncCursor, dialect: Any):
        self.target = target
        self.dialect = dialect

    async def execute(self, statement: Any, params: Params = None) -> DriverResult:
        sql, values, compiled = _prepare(statement, params, self.dialect)
        target = self.target
        cursor = target.cursor() if isinstance(target, psycopg.AsyncConnection) else target
        if isinstance(values, list):
            await cursor.executemany(sql, values)
        else:
            await cursor.execute(sql, values)
        rows = await cursor.fetchall() if cursor.description else []
        return _result(cursor, rows, compiled, self.dialect)


class _SyncDriver:
    """Sync twin of :class:`_AsyncDriver`."""

    def __init__(self, target: psycopg.Connection | psycopg.Cursor, dialect: Any):
        self.target = target
        self.dialect = dialect

    def execute(self, statement: Any, params: Params = None) -> DriverResult:
        sql, values, compiled = _prepare(statement, params, self.dialect)
        target = self.target
        cursor = target.cursor() if isinstance(target, psycopg.Connection) else target
        if isinstance(values, list):
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
        rows = cursor.fetchall() if cursor.description else []
        return _result(cursor, rows, compiled, self.dialect)


class HotStatement:
    """A hot statement (push, claim, complete) compiled once, run on a psycopg connection.

    Going through SQLAlchemy's execution and result machinery costs about as much client
    CPU as the round trip itself for a one-row statement. This keeps what that machinery
    would do (the app dialect's SQL text, its bind and result processors) computed once,
    and runs the text on the driver connection underneath the pool, as a server-side
    prepared statement unless ``prepare`` is off (PgBouncer in transaction mode).
    Nothing here commits: the connection's own transaction (or autocommit) decides.
    """

    def __init__(self, statement: Any, dialect: sa.Dialect, *, binary: bool = False) -> None:
        compiled = statement.compile(dialect=dialect)
        escaped = compiled.escaped_bind_names
        self.sql: str = compiled.string
        if binary:
            # psycopg's %(name)b: parameters in binary format. For the push's arrays this
            # cut client CPU per 1,000-job batch from 15 to 5 ms (text arrays are built
            # element by element with quoting).
            self.sql = re.sub(r"%\((\w+)\)s", r"%(\1)b", self.sql)
        self.processors = [
            (name, escaped.get(name, name), process)
            for name, process in compiled._bind_processors.items()
        ]
        self.keys = [column.keyname for column in compiled._result_columns]
        # Values bound in the statement itself (``values(state="running")``), processed once.
        own = {
            name: value
            for name, value in compiled.construct_params(_check=False).items()
            if value is not None
        }
        self.defaults = {escaped.get(name, name): value for name, value in own.items()}
        for name, key, process in self.processors:
            if name in own:
                self.defaults[key] = process(own[name])
        self._compiled = compiled
        self._dialect = dialect
        self._row_processors: list[Callable[[Any], Any] | None] | None = None

    @classmethod
    @functools.cache
    def of(cls, statement: Any, dialect: sa.Dialect, *, binary: bool = False) -> HotStatement:
        """The compiled form of a cached statement (statements are cached per prefix)."""
        return cls(statement, dialect, binary=binary)

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        processed = {**self.defaults, **values}
        for name, key, process in self.processors:
            if name in values:
                processed[key] = process(values[name])
        return processed

    def _processed(self, cursor: Any, rows: list[Any]) -> list[Any]:
        processors = self._row_processors
        if processors is None:
            description = cursor.description or []
            columns = self._compiled._result_columns
            processors = [None] * len(description)
            if len(columns) == len(description):
                processors = [
                    column.type._cached_result_processor(self._dialect, described.type_code)
                    for column, described in zip(columns, description, strict=True)
                ]
            self._row_processors = processors
        if not any(processors):
            return rows
        return [
            tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)) for row in rows
        ]

    async def run(
        self,
        conn: psycopg.AsyncConnection[Any],
        values: dict[str, Any],
        *,
        prepare: bool,
        json_as_text: bool = False,
    ) -> list[Any]:
        """Execute and fetch every row (as tuples, processed as the engine would).

        With ``json_as_text`` JSON columns come back as their text, undecoded, for a
        caller that decodes only what it needs (most claimed jobs have empty ones).
        """
        async with conn.cursor() as cursor:
            if json_as_text:
                for name in ("json", "jsonb"):
                    cursor.adapters.register_loader(name, TextLoader)
            await cursor.execute(self.sql, self.params(values), prepare=prepare)
            rows = await cursor.fetchall() if cursor.description else []
            return self._processed(cursor, rows)

    def sync_run(
        self, conn: psycopg.Connection[Any], values: dict[str, Any], *, prepare: bool
    ) -> list[Any]:
        """Sync twin of :meth:`run`."""
        with conn.cursor() as cursor:
            cursor.execute(self.sql, self.params(values), prepare=prepare)
            rows = cursor.fetchall() if cursor.description else []
            return self._processed(cursor, rows)


@contextlib.contextmanager
def translating_errors(statement: str, prefix: str | None = None) -> Iterator[None]:
    """For statements run on the driver connection directly: the errors the engine
    would raise. psycopg errors are wrapped in SQLAlchemy's DBAPIError classes, and with
    a ``prefix`` (the app engine's error hook) a missing table of that prefix becomes
    :class:`~chancy.errors.MigrationsNeededError` and a missing database a
    :class:`~chancy.errors.ConfigurationError`."""
    try:
        yield
    except psycopg.Error as exc:
        error = engines.translated(exc, prefix) if prefix is not None else None
        if error is not None:
            raise error from exc
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


@contextlib.asynccontextmanager
async def leased_connection(
    engine: AsyncEngine, *, autocommit: bool = False, prefix: str | None = None
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """The psycopg connection of a checkout from ``engine``'s pool, for hot statements:
    the worker's claims and completions on its autocommit engine, and with
    ``autocommit`` a push on the app's engine (switched for the lease and back).

    Without SQLAlchemy's ``AsyncConnection`` around it: checking one out and back (three
    greenlet switches, a task and a shield to close it) cost about twice the CPU of this
    (two switches), and its isolation-level set and reset ~0.3 ms per push. A connection
    that broke meanwhile is discarded, not pooled. Connect errors are raised as the
    engine would (see :func:`translating_errors`; ``prefix`` as there).
    """
    with translating_errors("(connect)", prefix):
        fairy = await greenlet_spawn(engine.sync_engine.raw_connection)
    try:
        conn: psycopg.AsyncConnection[Any] = fairy.driver_connection  # type: ignore[assignment]
        lost = False
        try:
            if autocommit:
                await conn.set_autocommit(True)
            yield conn
        except BaseException:
            if conn.broken or conn.closed:
                lost = True
                await greenlet_spawn(fairy.invalidate)  # closing it awaits the driver
            raise
        finally:
            if autocommit and not lost:
                try:
                    await conn.set_autocommit(False)
                except Exception:  # broken or cut short mid-statement: not reusable
                    await greenlet_spawn(fairy.invalidate)
    finally:
        await greenlet_spawn(fairy.close)


async def psycopg_connection(cursor: Any) -> psycopg.AsyncConnection[Any] | None:
    """The psycopg connection under an async session, connection or psycopg object, in
    the caller's transaction; None when the engine uses another driver."""
    if isinstance(cursor, psycopg.AsyncConnection):
        return cursor
    if isinstance(cursor, psycopg.AsyncCursor):
        return cursor.connection
    if isinstance(cursor, AsyncSession):
        cursor = await cursor.connection()
    if isinstance(cursor, AsyncConnection):
        raw = await cursor.get_raw_connection()
        conn = raw.driver_connection
        return conn if isinstance(conn, psycopg.AsyncConnection) else None
    return None


def sync_psycopg_connection(cursor: Any) -> psycopg.Connection[Any] | None:
    """Sync twin of :func:`psycopg_connection`."""
    if isinstance(cursor, psycopg.Connection):
        return cursor
    if isinstance(cursor, psycopg.Cursor):
        return cursor.connection
    if isinstance(cursor, Session):
        cursor = cursor.connection()
    if isinstance(cursor, sa.Connection):
        conn = cursor.connection.driver_connection
        return conn if isinstance(conn, psycopg.Connection) else None
    return None


def executable(cursor: Any, dialect: sa.Dialect, *, sync: bool = False) -> Any:
    """``cursor`` ready for ``execute(statement, params)`` (awaited unless ``sync``):
    SQLAlchemy sessions and connections as they are, psycopg connections and cursors
    adapted. A psycopg object of the other kind is refused with the fix."""
    if isinstance(cursor, psycopg.AsyncConnection | psycopg.AsyncCursor):
        is_sync = False
    elif isinstance(cursor, psycopg.Connection | psycopg.Cursor):
        is_sync = True
    else:
        return cursor
    if is_sync != sync:
        raise TypeError(
            f"A {'sync' if is_sync else 'async'} psycopg {type(cursor).__name__} was passed "
            f"to {'a sync_* method' if sync else 'an async method'}; use "
            f"{'the async method (awaited)' if sync else 'the sync_* twin'} instead."
        )
    return _SyncDriver(cursor, dialect) if sync else _AsyncDriver(cursor, dialect)


class AsyncDriverPool:
    """``chancy.pool``: ``async with chancy.pool.connection() as conn`` gives a psycopg
    ``AsyncConnection`` from the app engine's pool, committed when the block ends (rolled
    back if it raises) and returned to the pool, as with upstream's psycopg_pool."""

    def __init__(self, engine: Callable[[], AsyncEngine]) -> None:
        self._engine = engine

    @property
    def engine_pool(self) -> sa.pool.Pool:
        """The SQLAlchemy pool underneath (sizes, status)."""
        return self._engine().pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self._engine().connect() as pooled:
            raw = await pooled.get_raw_connection()
            conn: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
            try:
                yield conn
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()


class DriverPool:
    """Sync twin of :class:`AsyncDriverPool` (``chancy.sync_pool``)."""

    def __init__(self, engine: Callable[[], sa.Engine]) -> None:
        self._engine = engine

    @property
    def engine_pool(self) -> sa.pool.Pool:
        return self._engine().pool

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._engine().connect() as pooled:
            conn: psycopg.Connection[Any] = pooled.connection.driver_connection  # type: ignore[assignment]
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

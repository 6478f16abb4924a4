"""Engines from whatever the user hands us: a libpq DSN, a SQLAlchemy URL, or an engine."""

from __future__ import annotations

import re
import select
import time
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chancy.db.statements import jobs as jobs_sql
from chancy.errors import ConfigurationError, MigrationsNeededError

__all__ = [
    "conninfo",
    "libpq_dsn",
    "make_async_engine",
    "make_sync_engine",
    "ping_when_stale",
    "to_url",
    "translate_errors",
]

_MISSING_DATABASE = re.compile(r'database "(?P<name>[^"]+)" does not exist')
_MISSING_RELATION = re.compile(r'relation "(?:[^".]+\.)?(?P<name>[^"]+)" does not exist')


def _keyword_url(dsn: str) -> sa.URL:
    """A URL from a libpq keyword/value string such as ``host=db dbname=app user=me``."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(f"Cannot parse database DSN {dsn!r}: {exc}") from exc
    port = params.pop("port", None)
    return sa.URL.create(
        "postgresql",
        username=params.pop("user", None),
        password=params.pop("password", None),
        host=params.pop("host", None),
        port=int(port) if port else None,
        database=params.pop("dbname", None),
        query={k: str(v) for k, v in params.items()},
    )


def to_url(dsn: str | sa.URL) -> sa.URL:
    """A ``postgresql+psycopg`` URL, whichever Postgres spelling the user gave: a URL
    (``postgresql://``, ``postgres://``, ``postgresql+driver://``) or a libpq
    keyword/value string (``host=db dbname=app``).

    One psycopg URL serves both the async and the sync engine.
    """
    if isinstance(dsn, str) and "://" not in dsn and "=" in dsn:
        return _keyword_url(dsn).set(drivername="postgresql+psycopg")
    try:
        url = sa.make_url(dsn)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(
            f"Cannot parse database DSN {dsn!r}: pass a URL such as "
            "'postgresql://user@localhost/dbname' or an AsyncEngine."
        ) from exc
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigurationError(
            f"chancy needs PostgreSQL, got a {url.get_backend_name()!r} URL. "
            "Pass 'postgresql://...' (the psycopg 3 driver is chosen for you)."
        )
    return url.set(drivername="postgresql+psycopg")


def make_async_engine(url: sa.URL, *, pool_size: int, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, **kwargs)
    ping_when_stale(engine.sync_engine)
    return engine


def make_sync_engine(url: sa.URL, *, pool_size: int, **kwargs: Any) -> sa.Engine:
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=0, **kwargs)
    ping_when_stale(engine)
    return engine


#: A pooled connection idle longer than this is pinged on checkout (see ping_when_stale).
IDLE_PING_SECONDS = 30.0
_IDLE_SINCE = "chancy_idle_since"


def ping_when_stale(engine: sa.Engine) -> None:
    """Check a connection's liveness on checkout without a round trip when it can't be stale.

    ``pool_pre_ping`` costs a round trip on every checkout, about a quarter of a push.
    Instead a connection is pinged only when its socket has something to read (a
    connection the server closed, by ``pg_terminate_backend``, a restart or
    ``idle_session_timeout``, has its goodbye or end-of-file waiting there; an idle
    pooled connection has nothing) or when it sat in the pool longer than
    :data:`IDLE_PING_SECONDS` (a connection a firewall dropped silently shows nothing).
    A failed ping makes the pool replace the connection, as the pre-ping would: a push
    never goes out on a connection known to be dead. Connections of other drivers are
    pinged on every checkout.
    """
    dialect = engine.dialect

    def checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None:  # new: just connected
            return
        conn = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        fresh = time.monotonic() - since < IDLE_PING_SECONDS
        if fresh and isinstance(conn, psycopg.BaseConnection) and not _has_input(conn):
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: replace it (ping errors are disconnects)
            raise sa.exc.DisconnectionError(f"ping failed: {exc}") from exc
        if not alive:
            raise sa.exc.DisconnectionError("ping failed")

    sa.event.listen(engine, "checkin", checkin)
    sa.event.listen(engine, "checkout", checkout)


def _has_input(conn: psycopg.BaseConnection[Any]) -> bool:
    """Whether an idle connection is closed, broken or has bytes waiting (a non-blocking
    poll of its socket, a few microseconds)."""
    if conn.closed or conn.broken:
        return True
    try:
        fd = conn.pgconn.socket
    except psycopg.OperationalError:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover (no poll: Windows)


def libpq_dsn(given: object, url: sa.URL) -> str:
    """``Chancy.dsn``: the string the user passed when psycopg can use it as it is (a
    ``postgresql://`` URL or a keyword/value string), else the libpq URL of ``url``
    (for a SQLAlchemy URL, an engine or a Django setting), password included, as
    upstream's attribute."""
    if isinstance(given, str) and ("://" not in given or given.startswith(LIBPQ_SCHEMES)):
        return given
    return conninfo(url)


#: URL schemes libpq (so psycopg) accepts.
LIBPQ_SCHEMES = ("postgresql://", "postgres://")


def conninfo(url: sa.URL) -> str:
    """A libpq connection string for raw psycopg connections (the LISTEN connection)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_worker_engine(url: sa.URL, *, pool_size: int, **kwargs: Any) -> AsyncEngine:
    """The worker's engine for its hot path: autocommit and no pre-ping.

    A claim and a completion batch are each one statement, so autocommit saves the BEGIN
    and COMMIT round trips, and skipping the pre-ping saves one more per checkout: one
    round trip per claim instead of four. A connection lost meanwhile fails that one
    statement, is discarded, and the worker's loop retries with backoff.
    """
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        **kwargs,
    )
    sa.event.listen(engine.sync_engine, "connect", _claim_plan_setting)
    return engine


def _claim_plan_setting(dbapi_connection: Any, record: Any) -> None:
    """Each new worker connection claims along the ``fetch`` index, analysed or not
    (see :func:`~chancy.db.statements.jobs.build_claim_plan_setting`)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(jobs_sql.build_claim_plan_setting().text)
    finally:
        cursor.close()
    dbapi_connection.commit()  # a session setting, kept past the pool's reset


def translate_errors(engine: sa.Engine | AsyncEngine, prefix: str) -> None:
    """Turn two raw driver errors a new user meets first into chancy errors that say
    what to do, on every statement and connection of ``engine``:

    * a missing table of this prefix ("relation ... does not exist": the app was used
      before ``migrate()``) becomes :class:`~chancy.errors.MigrationsNeededError`;
    * a DSN naming a database that does not exist becomes a
      :class:`~chancy.errors.ConfigurationError` naming it.

    Call it once per engine and prefix (an engine you pass in is shared, not replaced).
    """
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    def on_error(context: sa.engine.ExceptionContext) -> None:
        error = translated(context.original_exception, prefix)
        if error is not None:
            raise error from context.original_exception

    sa.event.listen(target, "handle_error", on_error)


def translated(exc: BaseException, prefix: str) -> Exception | None:
    """The chancy error for a driver error, or None to leave it as it is."""
    if isinstance(exc, psycopg.errors.UndefinedTable):
        found = _MISSING_RELATION.search(str(exc))
        if found and found["name"].startswith(prefix):
            return MigrationsNeededError(prefix, f" (table {found['name']!r} does not exist)")
    elif isinstance(exc, psycopg.OperationalError):
        found = _MISSING_DATABASE.search(str(exc))
        if found:
            return ConfigurationError(
                f"The database {found['name']!r} named by the DSN does not exist. Create it "
                f"(e.g. `createdb {found['name']}`) or fix the DSN."
            )
    return None

"""The app's state: settings, engines, models, plugins and notifications."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import chancy.app.driver as driver
from chancy.app.driver import AsyncConnectionLike, SyncConnectionLike
from chancy.app.logging import LOGGER_NAME
from chancy.config import validate_prefix
from chancy.db import embedded
from chancy.db import engine as engines
from chancy.db.models import Models, build_models
from chancy.db.statements import notify as notify_sql
from chancy.errors import ConfigurationError
from chancy.queue import DEFAULT_MAX_RESULT_BYTES, check_max_result_bytes
from chancy.utils import import_string

__all__ = [
    "AppCore",
    "AsyncConnectionLike",
    "AsyncExecutable",
    "SyncConnectionLike",
    "SyncExecutable",
]

P = ParamSpec("P")
T = TypeVar("T")

#: Old names, kept for callers that imported them: these execute statements, they are
#: not statements (SQLAlchemy's ``Executable`` is the statement).
AsyncExecutable = AsyncConnectionLike
SyncExecutable = SyncConnectionLike

#: Added unless ``no_default_plugins`` is set, in this order, when the user has not
#: supplied a plugin with the same identifier. Named by import path so the app does
#: not import the plugin layer, which sits above it.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "chancy.plugins.leadership.Leadership",
    "chancy.plugins.pruner.Pruner",
    "chancy.plugins.recovery.Recovery",
    "chancy.plugins.metrics.Metrics",
    "chancy.plugins.workflow.WorkflowPlugin",
    "chancy.plugins.tracing.Tracing",
)


def django_url(settings: Mapping[str, Any]) -> sa.URL:
    """A URL from a Django ``DATABASES`` entry (upstream accepts these as the DSN).

    ``ENGINE`` is ignored; ``OPTIONS`` become query parameters; the port defaults to
    5432 when a host is given; a ``HOST`` that is a socket directory becomes ``?host=``.
    """
    if not settings.get("NAME"):
        raise ConfigurationError(
            "A Django-style database setting needs at least NAME, e.g. "
            "{'NAME': 'app', 'USER': 'me', 'HOST': 'localhost'}."
        )
    host = settings.get("HOST") or None
    port = settings.get("PORT") or (5432 if host else None)
    query = {k: str(v) for k, v in (settings.get("OPTIONS") or {}).items()}
    if host and str(host).startswith("/"):  # Django's HOST may be a Unix socket directory
        query["host"], host = str(host), None
    return sa.URL.create(
        "postgresql",
        username=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
        host=host,
        port=int(port) if port else None,
        database=settings["NAME"],
        query=query,
    )


class AppCore:
    """Construction, engines and lifecycle; the API mixins build on these attributes."""

    def __init__(
        self,
        dsn: str | sa.URL | AsyncEngine | Mapping[str, Any] | None = None,
        *,
        plugins: list[Any] | None = None,
        prefix: str = "chancy_",
        min_connection_pool_size: int = 1,
        max_connection_pool_size: int = 10,
        poll_reconnect_timeout: int = 300,
        notifications: bool = True,
        log: logging.Logger | None = None,
        no_default_plugins: bool = False,
        strict_queues: bool = False,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        prepared_statements: bool = True,
    ) -> None:
        self.prefix = validate_prefix(prefix)
        check_max_result_bytes("Chancy", max_result_bytes)
        #: The largest job result stored (bytes of JSON), unless a queue sets its own.
        self.max_result_bytes = max_result_bytes
        if min_connection_pool_size < 0 or max_connection_pool_size < 1:
            raise ConfigurationError(
                "Pool sizes must be min >= 0 and max >= 1, got "
                f"min={min_connection_pool_size}, max={max_connection_pool_size}."
            )
        if min_connection_pool_size > max_connection_pool_size:
            raise ConfigurationError(
                f"min_connection_pool_size ({min_connection_pool_size}) is larger than "
                f"max_connection_pool_size ({max_connection_pool_size})."
            )
        if dsn is None:  # CHANCY_DSN, else the embedded server (chancy/db/embedded.py)
            dsn = embedded.default_dsn()
        self.min_connection_pool_size = min_connection_pool_size
        self.max_connection_pool_size = max_connection_pool_size
        self.poll_reconnect_timeout = poll_reconnect_timeout
        self.notifications = notifications
        #: Refuse pushes to queues that were never declared (see README, TkTech/chancy#69).
        self.strict_queues = strict_queues
        #: Run the hot statements (push, claim, complete) as server-side prepared
        #: statements. Turn off behind PgBouncer in transaction mode (before 1.21), where
        #: a prepared statement may land on another server connection; the engines chancy
        #: creates then also stop psycopg's own automatic preparing.
        self.prepared_statements = prepared_statements
        # The library convention: log to the "chancy" logger and let the application
        # decide where records go (setup_default_logger() or its own logging config).
        self.log = log or logging.getLogger(LOGGER_NAME)
        self._owns_engine = not isinstance(dsn, AsyncEngine)
        if isinstance(dsn, AsyncEngine):
            self._engine: AsyncEngine | None = dsn
            self.url = engines.to_url(dsn.url)
        else:
            self._engine = None
            self.url = engines.to_url(django_url(dsn) if isinstance(dsn, Mapping) else dsn)
        #: ``url`` is the SQLAlchemy URL (``postgresql+psycopg``) the engines use; ``dsn``
        #: the libpq DSN, usable with psycopg: the string passed, as upstream.
        self.dsn = engines.libpq_dsn(dsn, self.url)
        self._sync_engine: sa.Engine | None = None
        self._autocommit: AsyncEngine | None = None
        self._sync_autocommit: sa.Engine | None = None
        self.plugins: dict[str, Any] = {}
        for plugin in plugins or []:
            self._add_plugin(plugin)
        if not no_default_plugins:
            for path in DEFAULT_PLUGINS:
                plugin = import_string(path)()
                if plugin.get_identifier() not in self.plugins:
                    self._add_plugin(plugin)

    def _add_plugin(self, plugin: Any) -> None:
        ident = plugin.get_identifier()
        existing = self.plugins.get(ident)
        if existing is not None:
            if type(existing) is type(plugin):
                raise ConfigurationError(f"Duplicate plugin {plugin!r}: it was given twice.")
            raise ConfigurationError(
                f"Plugin {plugin!r} conflicts with another plugin, {existing!r}: both use "
                f"the identifier {ident!r}. Keep only one of them."
            )
        self.plugins[ident] = plugin

    @property
    def models(self) -> Models:
        """This prefix's mapped classes, for your own queries: ``select(app.models.Job)``."""
        return build_models(self.prefix)

    _translating = False

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (created on first use unless you passed your own)."""
        if self._engine is None:
            self._engine = engines.make_async_engine(
                self.url, pool_size=self.max_connection_pool_size, **self._engine_options()
            )
        if not self._translating:
            # Also on an engine you passed in: its errors about our tables read better.
            engines.translate_errors(self._engine, self.prefix)
            self._translating = True
        return self._engine

    @property
    def sync_engine(self) -> sa.Engine:
        """The sync engine for the ``sync_*`` methods, created on first use."""
        if self._sync_engine is None:
            self._sync_engine = engines.make_sync_engine(
                self.url, pool_size=self.max_connection_pool_size, **self._engine_options()
            )
            engines.translate_errors(self._sync_engine, self.prefix)
        return self._sync_engine

    @property
    def autocommit_engine(self) -> AsyncEngine:
        """The app engine in autocommit mode, sharing its pool.

        For the app's own one-statement writes (a push is a single statement, insert and
        notification included): no BEGIN/COMMIT round trips.
        """
        if self._autocommit is None:
            self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._autocommit

    @property
    def sync_autocommit_engine(self) -> sa.Engine:
        """Sync twin of :attr:`autocommit_engine`."""
        if self._sync_autocommit is None:
            self._sync_autocommit = self.sync_engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._sync_autocommit

    def make_worker_engine(self) -> AsyncEngine:
        """A separate autocommit engine for a worker's claims and completions."""
        return engines.make_worker_engine(
            self.url, pool_size=self.max_connection_pool_size, **self._engine_options()
        )

    def _engine_options(self) -> dict[str, Any]:
        """Engine arguments for the engines chancy creates: without prepared statements,
        psycopg must not prepare on its own either (it does after 5 runs of a query)."""
        if self.prepared_statements:
            return {}
        return {"connect_args": {"prepare_threshold": None}}

    @contextlib.asynccontextmanager
    async def _autocommit_connection(self) -> AsyncIterator[Any]:
        """A connection for one self-contained statement (a push): the psycopg
        connection checked out of the engine's pool (checked for liveness, see
        :func:`~chancy.db.engine.ping_when_stale`) in autocommit, without SQLAlchemy's
        Connection around it (see :func:`~chancy.app.driver.leased_connection`). On
        another driver, an autocommit :class:`~sqlalchemy.ext.asyncio.AsyncConnection`."""
        engine = self.engine
        if engine.dialect.driver != "psycopg":
            async with self.autocommit_engine.connect() as conn:
                yield conn
            return
        async with driver.leased_connection(engine, autocommit=True, prefix=self.prefix) as conn:
            yield conn

    @contextlib.contextmanager
    def _sync_autocommit_connection(self) -> Iterator[Any]:
        """Sync twin of :meth:`_autocommit_connection`."""
        engine = self.sync_engine
        if engine.dialect.driver != "psycopg":
            with self.sync_autocommit_engine.connect() as conn:
                yield conn
            return
        with self._translating_errors("(connect)"):
            fairy = engine.raw_connection()
        try:
            conn = fairy.driver_connection
            conn.autocommit = True
            try:
                yield conn
            finally:
                try:
                    conn.autocommit = False
                except Exception:
                    fairy.invalidate()
        finally:
            fairy.close()

    def _translating_errors(
        self, statement: str, *, translate: bool = True
    ) -> contextlib.AbstractContextManager[None]:
        """:func:`~chancy.app.driver.translating_errors` with this app's prefix (the app
        engine's error hook), or without any with ``translate=False``."""
        return driver.translating_errors(statement, self.prefix if translate else None)

    @property
    def pool(self) -> driver.AsyncDriverPool:
        """psycopg connections from the engine's pool, as upstream's ``chancy.pool``::

            async with chancy.pool.connection() as conn:  # a psycopg AsyncConnection
                await chancy.push_ex(conn, job)             # committed when the block ends

        Not a separate psycopg_pool: the connections are the SQLAlchemy engine's own.
        """
        return driver.AsyncDriverPool(lambda: self.engine)

    @property
    def sync_pool(self) -> driver.DriverPool:
        """Sync twin of :attr:`pool` (psycopg ``Connection`` from the sync engine)."""
        return driver.DriverPool(lambda: self.sync_engine)

    def _executable(self, cursor: AsyncConnectionLike) -> Any:
        """What every async ``*_ex`` method executes on: SQLAlchemy sessions and
        connections as given, psycopg connections and cursors adapted (never committed)."""
        return driver.executable(cursor, self.engine.dialect)

    def _sync_executable(self, cursor: SyncConnectionLike) -> Any:
        """Sync twin of :meth:`_executable`."""
        return driver.executable(cursor, self.sync_engine.dialect, sync=True)

    @property
    def conninfo(self) -> str:
        """A libpq connection string, for raw psycopg connections such as LISTEN."""
        return engines.conninfo(self.url)

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: object) -> bool:
        """Close every connection the app opened: both engines, unless the async one is yours.

        The sync engine is closed too, so ``sync_*`` calls made inside ``async with`` do not
        leave connections behind. Both engines stay usable and reconnect on next use.
        """
        if self._engine is not None and self._owns_engine:
            await self._engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        return False

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> bool:
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        return False

    async def in_transaction(
        self,
        ex: Callable[Concatenate[AsyncConnection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run an ``_ex`` method in a transaction of its own, committed when it returns.

        Every convenience method is this around its ``_ex`` twin, so the two can never
        differ: whatever the ``_ex`` method writes and notifies commits together.
        """
        async with self.engine.begin() as conn:
            return await ex(conn, *args, **kwargs)

    def _notify_stmt(self, event: str, payload: dict[str, Any]) -> sa.Select[Any] | None:
        if not self.notifications:
            return None
        return notify_sql.notify(self.models.channel, event, payload)

    async def notify(
        self, cursor: AsyncConnectionLike, event: str, payload: dict[str, Any]
    ) -> None:
        """Send ``event`` to every listening worker when ``cursor``'s transaction commits.

        ``cursor`` is an AsyncSession or AsyncConnection (upstream's parameter name).

        Does nothing when notifications are disabled. Sync twin: :meth:`sync_notify`.
        """
        stmt = self._notify_stmt(event, payload)
        if stmt is not None:
            await self._executable(cursor).execute(stmt)

    def sync_notify(self, cursor: SyncConnectionLike, event: str, payload: dict[str, Any]) -> None:
        """Sync version of :meth:`notify`."""
        stmt = self._notify_stmt(event, payload)
        if stmt is not None:
            self._sync_executable(cursor).execute(stmt)

    async def notify_many(
        self, cursor: AsyncConnectionLike, events: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """Send several notifications in one statement."""
        if self.notifications and events:
            stmt = notify_sql.notify_many(self.models.channel, events)
            await self._executable(cursor).execute(stmt)

    def __repr__(self) -> str:
        url = self.url.set(drivername="postgresql").render_as_string(hide_password=True)
        return f"<Chancy(prefix={self.prefix!r}, dsn={url!r})>"

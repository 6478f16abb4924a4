"""Pushing jobs: one job, many jobs in batches, or inside the caller's own transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

import chancy.app.driver as driver
import chancy.tracing as tracing
from chancy.app.core import AppCore, AsyncConnectionLike, SyncConnectionLike
from chancy.db.statements import queues as queues_sql
from chancy.db.statements.push import PushBatch
from chancy.errors import ConfigurationError
from chancy.job import IsAJob, Job, Reference, as_job
from chancy.utils import chunked

JobLike = Job | IsAJob[Any]


def _checked(
    jobs: Iterable[JobLike], batch_size: int
) -> Iterator[tuple[list[Job], list[tuple[str, str]]]]:
    """Every job validated (and its JSON encoded, once) before the first batch is
    written, then the batches: jobs and their encodings.

    A bad job late in the list must not leave earlier batches committed.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"batch_size must be a positive int, got {batch_size!r}.")
    checked = [as_job(j) for j in jobs]
    encoded = [job.encoded() for job in checked]
    return zip(chunked(checked, batch_size), chunked(encoded, batch_size), strict=True)


def _refuse_undeclared(batch: PushBatch, declared: Iterable[str]) -> None:
    """With ``strict_queues``: no job goes to a queue no worker could ever serve."""
    missing = sorted(set(batch.queues) - set(declared))
    if missing:
        raise ConfigurationError(
            f"Queue {missing[0]!r} has not been declared, so no worker would run this job "
            f"(strict_queues is on). Declare it first: await chancy.declare(Queue("
            f"{missing[0]!r})), or `chancy queue declare {missing[0]}`."
            + (f" Also undeclared: {missing[1:]!r}." if len(missing) > 1 else "")
        )


class PushMixin(AppCore):
    @staticmethod
    @contextlib.contextmanager
    def _traced_batch(
        jobs: Iterable[JobLike], encoded: list[tuple[str, str]] | None = None
    ) -> Iterator[PushBatch]:
        """The batch to push, built inside the push's trace span (see chancy.tracing)."""
        listed = [as_job(j) for j in jobs]
        with tracing.push_span(listed) as traced:
            # A recording span put its context in each job's meta: encode them anew.
            yield PushBatch.from_jobs(traced, encoded=encoded if traced is listed else None)

    async def push(self, job: JobLike) -> Reference:
        """Push one job in its own transaction and return its reference.

        Accepts a :class:`Job` or a function decorated with :func:`chancy.job`. Sync twin:
        :meth:`sync_push`.
        """
        async with self._autocommit_connection() as conn:
            return await self.push_ex(conn, job)

    async def push_ex(self, cursor: AsyncConnectionLike, job: JobLike) -> Reference:
        """Push one job inside the caller's transaction (see :meth:`push_many_ex`)."""
        return (await self.push_many_ex(cursor, [job]))[0]

    async def push_many(
        self, jobs: Sequence[JobLike], *, batch_size: int = 1000
    ) -> AsyncIterator[list[Reference]]:
        """Push jobs in batches, each one statement in its own transaction.

        Yields one list of references per batch, in input order, once that batch is
        committed::

            async for references in chancy.push_many(jobs):
                ...

        Every job is validated before the first batch is written. Sync twin:
        :meth:`sync_push_many`.
        """
        for chunk, encoded in _checked(jobs, batch_size):
            with self._traced_batch(chunk, encoded) as batch:
                async with self._autocommit_connection() as conn:
                    references = await self._execute_push(conn, batch)
            # Yield only after the commit: a consumer that stops early keeps what it saw.
            yield references

    async def push_many_ex(
        self, cursor: AsyncConnectionLike, jobs: Sequence[JobLike]
    ) -> list[Reference]:
        """Push jobs inside the caller's transaction: they commit or roll back with it.

        ``cursor`` is an :class:`~sqlalchemy.ext.asyncio.AsyncSession`, an
        :class:`~sqlalchemy.ext.asyncio.AsyncConnection`, or a psycopg ``AsyncConnection``
        or ``AsyncCursor`` (such as ``chancy.pool.connection()`` gives); upstream's
        name for it is kept.
        This method only executes statements: it never commits, rolls back or closes. The
        jobs become visible when you commit and vanish if you roll back; the
        ``queue.pushed`` notification (once per distinct queue) is sent in the same
        transaction, so workers are woken only on commit. Bad input raises
        :class:`~chancy.errors.ConfigurationError` before anything is written. Sync twin:
        :meth:`sync_push_many_ex`.
        """
        with self._traced_batch(jobs) as batch:
            return await self._execute_push(cursor, batch)

    async def _execute_push(self, cursor: AsyncConnectionLike, batch: PushBatch) -> list[Reference]:
        if not batch.refs:
            return []
        if self.strict_queues:
            stmt = queues_sql.build_declared_names(self.models, batch.queues)
            names = (await self._executable(cursor).execute(stmt)).scalars()
            _refuse_undeclared(batch, names)
        stmt, params = batch.statement(self.models, notify=self.notifications)
        conn = await driver.psycopg_connection(cursor)
        if conn is None:  # an engine on another driver: SQLAlchemy executes it
            return batch.references((await self._executable(cursor).execute(stmt, params)).all())
        hot = driver.HotStatement.of(stmt, self.engine.dialect, binary=True)
        with self._translating_errors(hot.sql):
            rows = await hot.run(conn, params, prepare=self.prepared_statements)
        return batch.references(rows)

    def sync_push(self, job: JobLike) -> Reference:
        """Sync version of :meth:`push`."""
        with self._sync_autocommit_connection() as conn:
            return self.sync_push_ex(conn, job)

    def sync_push_ex(self, cursor: SyncConnectionLike, job: JobLike) -> Reference:
        """Sync version of :meth:`push_ex`."""
        return self.sync_push_many_ex(cursor, [job])[0]

    def sync_push_many(
        self, jobs: Sequence[JobLike], *, batch_size: int = 1000
    ) -> Iterator[list[Reference]]:
        """Sync version of :meth:`push_many`."""
        for chunk, encoded in _checked(jobs, batch_size):
            with self._traced_batch(chunk, encoded) as batch:
                with self._sync_autocommit_connection() as conn:
                    references = self._sync_execute_push(conn, batch)
            yield references

    def sync_push_many_ex(
        self, cursor: SyncConnectionLike, jobs: Sequence[JobLike]
    ) -> list[Reference]:
        """Sync version of :meth:`push_many_ex`: takes a ``Session`` or ``Connection``
        (SQLAlchemy's or psycopg's) or a psycopg ``Cursor``; never commits, rolls back or
        closes it."""
        with self._traced_batch(jobs) as batch:
            return self._sync_execute_push(cursor, batch)

    def _sync_execute_push(self, cursor: SyncConnectionLike, batch: PushBatch) -> list[Reference]:
        """Sync twin of :meth:`_execute_push`: the same statement, without ``await``."""
        if not batch.refs:
            return []
        if self.strict_queues:
            stmt = queues_sql.build_declared_names(self.models, batch.queues)
            _refuse_undeclared(batch, self._sync_executable(cursor).execute(stmt).scalars())
        stmt, params = batch.statement(self.models, notify=self.notifications)
        conn = driver.sync_psycopg_connection(cursor)
        if conn is None:
            return batch.references(self._sync_executable(cursor).execute(stmt, params).all())
        hot = driver.HotStatement.of(stmt, self.sync_engine.dialect, binary=True)
        with self._translating_errors(hot.sql):
            rows = hot.sync_run(conn, params, prepare=self.prepared_statements)
        return batch.references(rows)

"""Pushing jobs: one job, many jobs in batches, or inside the caller's own transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

from chancy.app.core import AppCore, AsyncExecutable, SyncExecutable
from chancy.db.statements.push import PushBatch, build_insert
from chancy.job import IsAJob, Job, Reference, as_job
from chancy.utils import chunked

JobLike = Job | IsAJob[Any]


class PushMixin(AppCore):
    def _batch(self, jobs: Iterable[JobLike]) -> PushBatch:
        return PushBatch.from_jobs([as_job(j) for j in jobs])

    async def push(self, job: JobLike) -> Reference:
        """Push one job in its own transaction and return its reference.

        Accepts a :class:`Job` or a function decorated with :func:`chancy.job`. Sync twin:
        :meth:`sync_push`.
        """
        async with self.engine.begin() as conn:
            return await self.push_ex(conn, job)

    async def push_ex(self, session: AsyncExecutable, job: JobLike) -> Reference:
        """Push one job inside the caller's transaction (see :meth:`push_many_ex`)."""
        return (await self.push_many_ex(session, [job]))[0]

    async def push_many(
        self, jobs: Sequence[JobLike], *, batch_size: int = 1000
    ) -> AsyncIterator[list[Reference]]:
        """Push jobs in batches, each one statement in its own transaction.

        Yields one list of references per batch, in input order::

            async for references in chancy.push_many(jobs):
                ...

        Sync twin: :meth:`sync_push_many`.
        """
        for chunk in chunked(jobs, batch_size):
            batch = self._batch(chunk)  # validate before opening a transaction
            async with self.engine.begin() as conn:
                yield await self._execute_push(conn, batch)

    async def push_many_ex(
        self, session: AsyncExecutable, jobs: Sequence[JobLike]
    ) -> list[Reference]:
        """Push jobs inside the caller's transaction: they commit or roll back with it.

        ``session`` is an :class:`~sqlalchemy.ext.asyncio.AsyncSession` or
        :class:`~sqlalchemy.ext.asyncio.AsyncConnection`. This method only executes
        statements: it never commits, rolls back or closes. The jobs become visible when
        you commit and vanish if you roll back; the ``queue.pushed`` notification (once
        per distinct queue) is sent in the same transaction, so workers are woken only on
        commit. Bad input raises :class:`~chancy.errors.ConfigurationError` before
        anything is written. Sync twin: :meth:`sync_push_many_ex`.
        """
        return await self._execute_push(session, self._batch(jobs))

    async def _execute_push(self, session: AsyncExecutable, batch: PushBatch) -> list[Reference]:
        if not batch.refs:
            return []
        rows = (await session.execute(build_insert(self.models), batch.params)).all()
        note = batch.notification(self.models.channel) if self.notifications else None
        if note is not None:
            await session.execute(note)
        return batch.references(rows)

    def sync_push(self, job: JobLike) -> Reference:
        """Sync version of :meth:`push`."""
        with self.sync_engine.begin() as conn:
            return self.sync_push_ex(conn, job)

    def sync_push_ex(self, session: SyncExecutable, job: JobLike) -> Reference:
        """Sync version of :meth:`push_ex`."""
        return self.sync_push_many_ex(session, [job])[0]

    def sync_push_many(
        self, jobs: Sequence[JobLike], *, batch_size: int = 1000
    ) -> Iterator[list[Reference]]:
        """Sync version of :meth:`push_many`."""
        for chunk in chunked(jobs, batch_size):
            batch = self._batch(chunk)
            with self.sync_engine.begin() as conn:
                yield self._sync_execute_push(conn, batch)

    def sync_push_many_ex(self, session: SyncExecutable, jobs: Sequence[JobLike]) -> list[Reference]:
        """Sync version of :meth:`push_many_ex`: takes a ``Session`` or ``Connection``,
        never commits, rolls back or closes it."""
        return self._sync_execute_push(session, self._batch(jobs))

    def _sync_execute_push(self, session: SyncExecutable, batch: PushBatch) -> list[Reference]:
        if not batch.refs:
            return []
        rows = session.execute(build_insert(self.models), batch.params).all()
        note = batch.notification(self.models.channel) if self.notifications else None
        if note is not None:
            session.execute(note)
        return batch.references(rows)

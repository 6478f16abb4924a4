"""Queue administration: declare, read, pause, resume and delete queues."""

from __future__ import annotations

import datetime as dt

from chancy import events
from chancy.app.core import AppCore, AsyncConnectionLike, SyncConnectionLike
from chancy.db.statements import jobs as jobs_sql
from chancy.db.statements import queues as queues_sql
from chancy.errors import ConfigurationError
from chancy.queue import Queue
from chancy.utils import import_string


def _checked(queue: Queue) -> Queue:
    """Validate before writing, including what a worker could not use: tag patterns
    that do not compile and an executor path that does not import (stored, either would
    make every worker log the same error every few seconds)."""
    if not isinstance(queue, Queue):
        raise ConfigurationError(f"Expected a Queue, got {queue!r}.")
    queue.validate()
    bad = queue.invalid_tags()
    if bad:
        raise ConfigurationError(
            f"Queue {queue.name!r}: tags are regular expressions, and {bad!r} do not compile."
        )
    try:
        executor = import_string(queue.executor)
    except ImportError as exc:
        raise ConfigurationError(
            f"Queue {queue.name!r}: executor {queue.executor!r} cannot be imported ({exc}). "
            "Use one of Chancy.Executor or the import path of an Executor subclass."
        ) from exc
    if not isinstance(executor, type):
        raise ConfigurationError(
            f"Queue {queue.name!r}: executor {queue.executor!r} is not a class; use one of "
            "Chancy.Executor or the import path of an Executor subclass."
        )
    return queue


def _resume_time(resume_at: dt.datetime | dt.timedelta | None) -> dt.datetime | None:
    if isinstance(resume_at, dt.timedelta):
        return dt.datetime.now(dt.UTC) + resume_at
    if resume_at is not None and resume_at.tzinfo is None:
        raise ConfigurationError(
            f"resume_at must be timezone-aware (or a timedelta), got naive {resume_at!r}."
        )
    return resume_at


class QueueMixin(AppCore):
    async def declare(self, queue: Queue, *, upsert: bool = False) -> Queue:
        """Create ``queue`` (or, with ``upsert``, overwrite its settings); return it as stored.

        Running workers pick the change up at once through ``queue.declared`` (or within
        their ``queue_change_poll_interval`` without notifications). Sync twin:
        :meth:`sync_declare`.
        """
        async with self.engine.begin() as conn:
            stored = await self.declare_ex(conn, queue, upsert=upsert)
            await self.notify(conn, events.QUEUE_DECLARED, events.queue_payload(queue.name))
        return stored

    async def declare_ex(
        self, cursor: AsyncConnectionLike, queue: Queue, *, upsert: bool = False
    ) -> Queue:
        """Declare inside the caller's transaction; never commits and sends no notification.

        The one ``_ex`` method that does not notify (as upstream documents): call
        :meth:`notify` with ``queue.declared`` yourself, or workers see the queue at
        their next ``queue_change_poll_interval``.
        """
        stmt = queues_sql.build_declare(self.models, _checked(queue), upsert=upsert)
        return queues_sql.row_to_queue((await self._executable(cursor).execute(stmt)).one())

    def sync_declare(self, queue: Queue, *, upsert: bool = False) -> Queue:
        """Sync version of :meth:`declare`."""
        with self.sync_engine.begin() as conn:
            stored = self.sync_declare_ex(conn, queue, upsert=upsert)
            self.sync_notify(conn, events.QUEUE_DECLARED, events.queue_payload(queue.name))
        return stored

    def sync_declare_ex(
        self, cursor: SyncConnectionLike, queue: Queue, *, upsert: bool = False
    ) -> Queue:
        """Sync version of :meth:`declare_ex`."""
        stmt = queues_sql.build_declare(self.models, _checked(queue), upsert=upsert)
        return queues_sql.row_to_queue(self._sync_executable(cursor).execute(stmt).one())

    async def get_queue(self, name: str) -> Queue:
        """The queue called ``name``; raises ``KeyError`` when it does not exist."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(queues_sql.build_get_queue(self.models, name))).first()
        if row is None:
            raise KeyError(f"Queue {name!r} not found.")
        return queues_sql.row_to_queue(row)

    async def get_all_queues(self) -> list[Queue]:
        """Every declared queue, whichever workers serve it."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(queues_sql.build_get_all_queues(self.models))).all()
        return [queues_sql.row_to_queue(row) for row in rows]

    async def delete_queue(self, name: str, *, purge_jobs: bool = True) -> int:
        """Delete the queue (and, by default, its jobs); return the number of queues removed.

        Workers drain and drop the queue within about a second (``queue.deleted``).
        """
        return await self.in_transaction(self.delete_queue_ex, name, purge_jobs=purge_jobs)

    async def delete_queue_ex(
        self, cursor: AsyncConnectionLike, name: str, *, purge_jobs: bool = True
    ) -> int:
        """Delete inside the caller's transaction; never commits. Notifies ``queue.deleted``."""
        executable = self._executable(cursor)
        result = await executable.execute(queues_sql.build_delete_queue(self.models, name))
        if purge_jobs:
            await executable.execute(jobs_sql.build_delete_queue_jobs(self.models, name))
        await self.notify(cursor, events.QUEUE_DELETED, events.queue_payload(name))
        return result.rowcount

    async def pause_queue(
        self, name: str, *, resume_at: dt.datetime | dt.timedelta | None = None
    ) -> int:
        """Stop workers claiming from the queue, optionally until ``resume_at``.

        Jobs already running finish. Returns the number of queues changed.
        """
        return await self.in_transaction(self.pause_queue_ex, name, resume_at=resume_at)

    async def pause_queue_ex(
        self,
        cursor: AsyncConnectionLike,
        name: str,
        *,
        resume_at: dt.datetime | dt.timedelta | None = None,
    ) -> int:
        """Pause inside the caller's transaction; never commits. Notifies ``queue.paused``."""
        stmt = queues_sql.build_set_state(
            self.models, name, Queue.State.PAUSED, _resume_time(resume_at)
        )
        count = len((await self._executable(cursor).execute(stmt)).all())
        await self.notify(cursor, events.QUEUE_PAUSED, events.queue_payload(name))
        return count

    async def resume_queue(self, name: str) -> int:
        """Let workers claim from a paused queue again."""
        return await self.in_transaction(self.resume_queue_ex, name)

    async def resume_queue_ex(self, cursor: AsyncConnectionLike, name: str) -> int:
        """Resume inside the caller's transaction; never commits. Notifies ``queue.resumed``."""
        stmt = queues_sql.build_set_state(self.models, name, Queue.State.ACTIVE, None)
        count = len((await self._executable(cursor).execute(stmt)).all())
        await self.notify(cursor, events.QUEUE_RESUMED, events.queue_payload(name))
        return count

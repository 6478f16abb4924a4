"""Reading, waiting on, cancelling, retrying and purging jobs; the worker registry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

from chancy import events
from chancy.app.core import AppCore, AsyncConnectionLike
from chancy.db.statements import jobs as jobs_sql
from chancy.db.statements import workers as workers_sql
from chancy.errors import ConfigurationError
from chancy.job import QueuedJob, Reference

DONE_STATES = frozenset({QueuedJob.State.SUCCEEDED, QueuedJob.State.FAILED})

RefLike = Reference | uuid.UUID | str


def _reference(ref: RefLike) -> Reference:
    """A :class:`Reference` from itself, a job id (UUID) or its string form."""
    if isinstance(ref, Reference):
        return ref
    try:
        return Reference(ref)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigurationError(
            f"{ref!r} is not a job reference: pass the Reference push() returned, a job id "
            "(uuid.UUID) or its string form."
        ) from exc


class JobMixin(AppCore):
    async def get_job(self, ref: RefLike) -> QueuedJob | None:
        """The job behind ``ref``, or None if it no longer exists.

        ``ref`` is a :class:`Reference`, a job id or its string form. Sync twin:
        :meth:`sync_get_job`.
        """
        stmt = jobs_sql.build_get_job(self.models, _reference(ref).identifier)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return jobs_sql.row_to_job(row) if row is not None else None

    def sync_get_job(self, ref: RefLike) -> QueuedJob | None:
        """Sync version of :meth:`get_job`."""
        stmt = jobs_sql.build_get_job(self.models, _reference(ref).identifier)
        with self.sync_engine.connect() as conn:
            row = conn.execute(stmt).first()
        return jobs_sql.row_to_job(row) if row is not None else None

    async def get_jobs(self, refs: Iterable[RefLike]) -> list[QueuedJob]:
        """The jobs that still exist among ``refs`` (missing ones are skipped)."""
        idents = [_reference(ref).identifier for ref in refs]
        if not idents:
            return []
        async with self.engine.connect() as conn:
            rows = (await conn.execute(jobs_sql.build_get_jobs(self.models, idents))).all()
        return [jobs_sql.row_to_job(row) for row in rows]

    async def wait_for_job(
        self,
        ref: RefLike,
        *,
        interval: float = 1,
        timeout: float | None = None,
        states: set[QueuedJob.State] | None = None,
    ) -> QueuedJob | None:
        """Poll every ``interval`` seconds until the job reaches ``states`` (default:
        succeeded or failed). Returns None if the job disappears; raises ``TimeoutError``
        after ``timeout`` seconds."""
        wanted = states or DONE_STATES
        async with asyncio.timeout(timeout):
            while True:
                found = await self.get_job(ref)
                if found is None or found.state in wanted:
                    return found
                await asyncio.sleep(interval)

    async def wait_for_jobs(
        self,
        refs: list[RefLike],
        *,
        interval: float = 1,
        timeout: float | None = None,
        states: set[QueuedJob.State] | None = None,
    ) -> list[QueuedJob]:
        """Like :meth:`wait_for_job` for many jobs; deleted jobs stop being waited for."""
        wanted = states or DONE_STATES
        pending = {_reference(ref).identifier for ref in refs}
        done: list[QueuedJob] = []
        async with asyncio.timeout(timeout):
            while pending:
                found = await self.get_jobs([Reference(i) for i in pending])
                pending &= {job.id for job in found}
                for job in found:
                    if job.state in wanted:
                        pending.discard(job.id)
                        done.append(job)
                if pending:
                    await asyncio.sleep(interval)
        return done

    async def cancel_job(self, ref: RefLike) -> int:
        """Cancel a job: a pending one never runs; a running one is interrupted.

        The job ends ``failed`` with an error entry saying it was cancelled, and is not
        retried. Interrupting a running job needs notifications. Returns 1 if the job was
        cancelled, 0 if it had already finished or does not exist.
        """
        return await self.in_transaction(self.cancel_job_ex, ref)

    async def cancel_job_ex(self, cursor: AsyncConnectionLike, ref: RefLike) -> int:
        ref = _reference(ref)
        stmt = jobs_sql.build_cancel(self.models, ref.identifier)
        rows = (await self._executable(cursor).execute(stmt)).all()
        if rows:
            await self.notify(cursor, events.JOB_CANCELLED, events.job_payload(str(ref.identifier)))
        return len(rows)

    async def retry_jobs(self, refs: Iterable[RefLike]) -> set[str]:
        """Run finished jobs again with a fresh attempt budget; returns the queues touched."""
        return await self.in_transaction(self.retry_jobs_ex, refs)

    async def retry_jobs_ex(self, cursor: AsyncConnectionLike, refs: Iterable[RefLike]) -> set[str]:
        idents = [_reference(ref).identifier for ref in refs]
        if not idents:
            return set()
        rows = (
            await self._executable(cursor).execute(jobs_sql.build_retry(self.models, idents))
        ).all()
        queues = {row.queue for row in rows}
        pushed = [(events.QUEUE_PUSHED, events.queue_payload(q)) for q in sorted(queues)]
        await self.notify_many(cursor, pushed)
        return queues

    async def purge_jobs(self, refs: Iterable[RefLike]) -> int:
        """Delete jobs that are not running; returns how many were deleted."""
        return await self.in_transaction(self.purge_jobs_ex, refs)

    async def purge_jobs_ex(self, cursor: AsyncConnectionLike, refs: Iterable[RefLike]) -> int:
        idents = [_reference(ref).identifier for ref in refs]
        if not idents:
            return 0
        stmt = jobs_sql.build_purge(self.models, idents)
        return len((await self._executable(cursor).execute(stmt)).all())

    async def get_all_workers(self) -> list[dict[str, Any]]:
        """Every registered worker: worker_id, tags, queues, last_seen, expires_at, is_leader."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(workers_sql.build_get_all_workers(self.models))).all()
        return [dict(row._mapping) for row in rows]

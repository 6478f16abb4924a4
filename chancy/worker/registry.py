"""The worker's row in the registry: first announcement, heartbeats and deregistration."""

from __future__ import annotations

import asyncio
import contextlib

from chancy import events
from chancy.db.statements import workers as workers_sql
from chancy.loops import FAILED, attempt, wait_for_event
from chancy.worker.context import WorkerContext


class Registry:
    """Keeps the worker's row (tags, queues, last seen, expiry) fresh.

    ``wake`` asks for an announcement now, e.g. when the served queues change.
    """

    def __init__(self, worker: WorkerContext) -> None:
        self.worker = worker
        self.wake = asyncio.Event()

    async def announce(self) -> None:
        """Refresh this worker's row and forget expired peers, in one transaction."""
        worker = self.worker
        models = worker.chancy.models
        async with worker.chancy.engine.begin() as conn:
            await conn.execute(workers_sql.build_forget_expired(models))
            await conn.execute(
                workers_sql.build_announce(
                    models,
                    worker.worker_id,
                    sorted(worker.worker_tags()),
                    worker.served_queues(),
                    worker.heartbeat_timeout,
                )
            )
            body = {events.WORKER_ID: worker.worker_id}
            await worker.chancy.notify(conn, events.WORKER_ANNOUNCED, body)

    async def announce_first(self) -> None:
        """Register before the first claim, so Recovery never mistakes this worker's
        fresh jobs for a dead worker's. A failure is retried by :meth:`run`."""
        try:
            await self.announce()
        except Exception as exc:
            self.worker.log.warning("First heartbeat failed (%s); retrying.", exc)
            self.wake.set()

    async def run(self) -> None:
        backoff = self.worker.database_retry("Heartbeat")
        while True:
            await wait_for_event(self.wake, self.worker.heartbeat_poll_interval)
            self.wake.clear()
            if await attempt(self.announce, backoff) is FAILED:
                self.wake.set()  # announce again as soon as the backoff has passed

    async def deregister(self) -> None:
        """Remove the row of a worker that stops cleanly (best effort)."""
        with contextlib.suppress(Exception):
            async with self.worker.chancy.engine.begin() as conn:
                await conn.execute(
                    workers_sql.build_deregister(self.worker.chancy.models, self.worker.worker_id)
                )

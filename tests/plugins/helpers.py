"""Helpers of the plugin tests: started workers and direct reads and writes of job rows.

Rows are placed in exact states (claimed by a vanished worker, finished long ago) with
plain UPDATEs through ``app.models.Job``, so each test sets up precisely the situation
a plugin must handle, without waiting for it to happen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa

from chancy import Chancy, Job, Queue
from chancy.job import Reference
from chancy.worker import Worker
from tests.helpers import claim_rows

ASYNC = Chancy.Executor.Async
JOBS = "tests.plugins.plugin_jobs"


def job(name: str, **fields: Any) -> Job:
    return Job(func=f"{JOBS}.{name}", **fields)


@contextlib.asynccontextmanager
async def started(app: Chancy, *queues: Queue, **options: Any) -> AsyncIterator[Worker]:
    """A started worker with short intervals; the default queue uses the async executor."""
    await app.declare(Queue("default", executor=ASYNC, concurrency=1, polling_interval=1))
    for queue in queues:
        await app.declare(queue, upsert=True)
    settings: dict[str, Any] = {
        "register_signal_handlers": False,
        "heartbeat_poll_interval": 1,
        "queue_change_poll_interval": 1,
        "shutdown_timeout": 2,
    }
    settings.update(options)
    worker = Worker(app, **settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def claim_as(app: Chancy, worker_id: str, queue: str, up_to: int = 1) -> list[Any]:
    """Claim jobs exactly as a worker would, under ``worker_id`` (which may not exist)."""
    return await claim_rows(app, queue, worker_id, up_to)


async def register_worker(app: Chancy, worker_id: str, *, expires_in: float) -> None:
    """A workers-table row for a worker that is not running (negative: already expired)."""
    t = app.models.Worker.__table__
    expires = sa.func.now() + dt.timedelta(seconds=expires_in)
    async with app.engine.begin() as conn:
        await conn.execute(sa.insert(t).values(worker_id=worker_id, expires_at=expires))


async def push_all(app: Chancy, jobs: list[Job]) -> list[Reference]:
    """Push ``jobs`` in one transaction; references in input order."""
    async with app.engine.begin() as conn:
        return await app.push_many_ex(conn, jobs)

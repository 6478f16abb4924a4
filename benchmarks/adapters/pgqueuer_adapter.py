"""Adapter for PgQueuer (asyncpg driver, its documented default), in its own virtualenv.

Worker settings are PgQueuer's defaults (batch_size 10) with ``max_concurrent_tasks``
set to the requested concurrency.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

import asyncpg
import harness
from harness import System, main
from pgqueuer import AsyncpgDriver, Queries, QueueManager


class PgQueuer(System):
    name = "pgqueuer"
    # Finished jobs are deleted from the queue table (their outcome goes to the log).
    remaining_sql = "SELECT count(*) FROM pgqueuer"

    async def setup(self) -> None:
        self.conn = await asyncpg.connect(self.dsn)
        self.queries = Queries(AsyncpgDriver(self.conn))
        await self.queries.install()
        self.task: asyncio.Task[Any] | None = None

    async def close(self) -> None:
        await self.conn.close()

    async def enqueue_many(self, n: int, sync: bool = False) -> None:
        await self.queries.enqueue(["noop"] * n, [None] * n, [0] * n)

    async def enqueue_one(self) -> None:
        await self.queries.enqueue("noop", None)

    async def start_worker(self, concurrency: int) -> None:
        self.wconn = await asyncpg.connect(self.dsn)
        self.qm = QueueManager(Queries(AsyncpgDriver(self.wconn)))

        @self.qm.entrypoint("noop")
        async def noop(job: Any) -> None:
            harness.job_ran()

        self.task = asyncio.create_task(
            self.qm.run(batch_size=10, max_concurrent_tasks=max(concurrency, 20))
        )

    async def stop_worker(self) -> None:
        if self.task is not None:
            self.qm.shutdown.set()
            await asyncio.wait_for(self.task, 60)
            await self.wconn.close()

    def version(self) -> str:
        return version("pgqueuer")


if __name__ == "__main__":
    main(PgQueuer)

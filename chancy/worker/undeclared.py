"""The leader's warning about jobs waiting in queues that were never declared.

Pushing to an undeclared queue succeeds (unless ``Chancy(strict_queues=True)``), but no
worker serves such a queue, so its jobs wait forever without a sound (TkTech/chancy#69).
The leader looks for such queues and logs one warning per queue, naming the fix.
"""

from __future__ import annotations

import asyncio

from chancy.backoff import Backoff
from chancy.db.statements import queues as queues_sql
from chancy.loops import FAILED, attempt
from chancy.worker.context import WorkerContext

__all__ = ["UndeclaredQueues"]


class UndeclaredQueues:
    """While this worker leads, check every ``queue_change_poll_interval`` seconds."""

    def __init__(self, worker: WorkerContext) -> None:
        self.worker = worker
        #: Queues already warned about: each is reported once per worker.
        self.warned: set[str] = set()

    async def check(self) -> list[str]:
        """Warn about undeclared queues holding waiting jobs; returns the new ones."""
        chancy = self.worker.chancy
        async with chancy.engine.connect() as conn:
            stmt = queues_sql.build_undeclared_with_pending(chancy.models)
            found = list((await conn.execute(stmt)).scalars())
        new = [name for name in found if name not in self.warned]
        for name in new:
            self.worker.log.warning(
                "Queue %r holds pending jobs but was never declared, so no worker will "
                "run them. Declare it (await chancy.declare(Queue(%r)) or `chancy queue "
                "declare %s`), or use Chancy(strict_queues=True) to refuse such pushes.",
                name,
                name,
                name,
            )
        self.warned.update(new)
        return new

    async def run(self) -> None:
        worker = self.worker
        backoff = Backoff(initial=1, maximum=60)
        while True:
            await worker.is_leader.wait()
            failed = await attempt(
                self.check,
                backoff,
                on_error=lambda exc: worker.log.exception(
                    "Checking for undeclared queues failed; retrying."
                ),
            )
            if failed is FAILED:
                continue
            await asyncio.sleep(worker.queue_change_poll_interval)

"""The batched completer: every job outcome reaches the database in one UPDATE per flush.

Outcomes gather in memory and are written every ``interval`` seconds, or at once when a
batch fills. The UPDATE applies only to rows still ``running`` under the same claim, so a
late outcome can never overwrite a cancelled or recovered job. When the backlog grows past
``max_backlog`` callers wait, so a slow database slows the worker instead of growing its
memory. A failed flush keeps its outcomes and is retried with backoff. Stored results
also bound a statement: a batch stops growing once its results pass ``batch_bytes``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from chancy.app.driver import HotStatement, leased_connection, translating_errors
from chancy.backoff import DatabaseRetry
from chancy.db.models import Models
from chancy.db.statements.jobs import build_complete, complete_params
from chancy.job import QueuedJob
from chancy.loops import attempt, wait_for_event
from chancy.worker.outcomes import Outcome

AfterFlush = Callable[[list[QueuedJob]], Awaitable[None]]


class Completer:
    def __init__(
        self,
        engine: AsyncEngine,
        models: Models,
        *,
        log: logging.Logger,
        after_flush: AfterFlush | None = None,
        interval: float = 0.05,
        batch_size: int = 1000,
        max_backlog: int = 10_000,
        retry: DatabaseRetry | None = None,
        batch_bytes: int = 16 * 1024 * 1024,
        prepare: bool = True,
    ) -> None:
        self.engine = engine
        self.models = models
        self.log = log
        self.after_flush = after_flush
        self.interval = interval
        self.batch_size = batch_size
        self.max_backlog = max_backlog
        self.retry = retry or DatabaseRetry("Saving job outcomes", log=log, initial=0.5, maximum=30)
        self.batch_bytes = batch_bytes
        #: Run the write as a server-side prepared statement (off behind PgBouncer).
        self.prepare = prepare
        self._pending: list[Outcome] = []
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._lock = asyncio.Lock()
        self._closing = False
        self.flushed_total = 0

    def __len__(self) -> int:
        return len(self._pending)

    async def put(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self._drained.clear()
        if len(self._pending) >= self.batch_size:
            self._wake.set()
        while len(self._pending) >= self.max_backlog:
            self._wake.set()
            await self._drained.wait()

    async def run(self) -> None:
        """Flush until :meth:`close`; then call :meth:`flush` for the last outcomes.

        Closing (rather than cancelling) ends the loop between flushes, so a write is
        never cut off between its commit and its ``after_flush`` hooks.
        """
        backoff = self.retry
        while not self._closing:
            await wait_for_event(self._wake, self.interval)
            self._wake.clear()
            # Closing: no backoff, the final flush retries.
            await attempt(self.flush, backoff, on_error=lambda exc: not self._closing)

    def close(self) -> None:
        """Ask :meth:`run` to return after its current flush."""
        self._closing = True
        self._wake.set()

    async def flush(self) -> int:
        """Write everything pending now; returns how many outcomes were applied."""
        applied = 0
        async with self._lock:
            while self._pending:
                batch = self._next_batch()
                applied_jobs = await self._write(batch)
                del self._pending[: len(batch)]
                applied += len(applied_jobs)
                self.flushed_total += len(batch)
                if self.after_flush is not None and applied_jobs:
                    try:
                        await self.after_flush(applied_jobs)
                    except Exception:
                        self.log.exception("A job-updated hook failed.")
            self._drained.set()
        return applied

    def _next_batch(self) -> list[Outcome]:
        """Up to ``batch_size`` outcomes whose results add up to at most ``batch_bytes``
        (always at least one), so big results never make one huge statement."""
        size = 0
        for count, outcome in enumerate(self._pending[: self.batch_size]):
            size += len(outcome.result or "")
            if size > self.batch_bytes and count > 0:
                return self._pending[:count]
        return self._pending[: self.batch_size]

    async def _write(self, batch: list[Outcome]) -> list[QueuedJob]:
        """One prepared statement on the driver connection, its arrays sent in binary
        (as the claim and the push): no SQLAlchemy execution or result machinery."""
        hot = HotStatement.of(build_complete(self.models), self.engine.dialect, binary=True)
        params = complete_params([(o.job, o.new_errors, o.result) for o in batch])
        async with leased_connection(self.engine) as raw:
            with translating_errors(hot.sql):
                rows = await hot.run(raw, params, prepare=self.prepare)
                await raw.commit()  # a no-op on the worker's autocommit engine
        applied = {row[0] for row in rows}
        return [o.job for o in batch if o.job.id in applied]

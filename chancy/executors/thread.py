"""Run jobs in a thread pool: for blocking I/O in sync code that is safe to share a process.

Threads cannot be interrupted, so TIME limits are cooperative here: a time-limited job
must take a ``QueuedJob`` parameter and call its ``checkpoint()``, which raises
``TimeoutError`` once the deadline has passed (a job without one is refused with a
``ValueError``). The job's outcome is reported at its deadline (or at once when it is
cancelled) either way, but its thread runs on until the function returns or
checkpoints. Until then the thread keeps its slot, so the queue's concurrency is never
exceeded; the slot frees silently and the producer sees it on its next poll. Use the
process executor when jobs must really stop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import dataclasses
import logging
from typing import Any

from chancy.executors.base import Executor, JobCancelledError, cpu_count
from chancy.executors.calling import call_blocking, time_limit_error
from chancy.job import Limit, QueuedJob, Reference

__all__ = ["ThreadedExecutor", "run_job"]

log = logging.getLogger("chancy.executors")


def run_job(executor: type[Executor], job: QueuedJob) -> tuple[Any, dict[str, Any]]:
    """Run ``job`` to completion in the calling thread as ``executor`` would; returns
    (result, meta).

    Async functions get a fresh event loop for the job. A run that ends past its TIME
    limit timed out all the same (the job's checkpoints may have been too far apart).
    Returning meta lets executors whose jobs run on a copy of the job (sub-interpreters)
    carry its changes back.
    """
    job, func, kwargs = executor.prepare_job_for_execution(job)
    result = call_blocking(func, kwargs)
    job.checkpoint()
    return result, job.meta


class ThreadedExecutor(Executor):
    """Each job runs in a thread of a :class:`~concurrent.futures.ThreadPoolExecutor` of
    ``concurrency`` threads (default ``min(32, cpus + 4)``).

    MEMORY limits are refused: threads share the worker's memory. TIME limits are
    cooperative (see the module docs), and a cancelled job is reported at once while its
    thread runs on.

    At shutdown, jobs still running are put back in the queue; their threads cannot be
    stopped, so they finish in the background with their outcome discarded, and the
    process waits for them before it exits.
    """

    capabilities = (
        Executor.Capability.SYNC_JOBS
        | Executor.Capability.ASYNC_JOBS
        | Executor.Capability.COOPERATIVE_TIME_LIMITS
    )

    #: Whether the outcome at a deadline says the job was interrupted (threads: no).
    interrupts_at_deadline = False

    def __init__(self, worker: Any, queue: Any) -> None:
        super().__init__(worker, queue)
        self.pool = self.make_pool()
        #: Pool work not yet returned, by job id: it holds a slot even once reported.
        self.calls: dict[Any, asyncio.Future[Any]] = {}
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self.interrupts: dict[Any, asyncio.Future[BaseException]] = {}

    @classmethod
    def get_default_concurrency(cls) -> int:
        return min(32, cpu_count() + 4)

    def make_pool(self) -> concurrent.futures.Executor:
        return concurrent.futures.ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix=f"chancy-{self.queue.name}"
        )

    def submit(self, job: QueuedJob) -> asyncio.Future[tuple[Any, dict[str, Any]]]:
        """Start the pool work for ``job``: a future of ``(result, meta)``."""
        return asyncio.get_running_loop().run_in_executor(self.pool, run_job, type(self), job)

    def __len__(self) -> int:
        # Jobs reported at a deadline or cancelled still occupy their thread.
        return len(self.jobs.keys() | self.calls.keys())

    def start(self, job: QueuedJob) -> None:
        job = job.start_time_limit()  # the same deadline for the thread and for _run
        call = self.submit(job)
        self.calls[job.id] = call
        call.add_done_callback(lambda _: self.calls.pop(job.id, None))
        self.interrupts[job.id] = asyncio.get_running_loop().create_future()
        self.tasks[job.id] = asyncio.create_task(self._run(job, call), name=f"job-{job.id}")

    async def _run(self, job: QueuedJob, call: asyncio.Future[Any]) -> None:
        exc: BaseException | None = None
        result: Any = None
        limit = job.limit(Limit.Type.TIME)
        interrupt = self.interrupts[job.id]
        meta_before = copy.deepcopy(job.meta)
        try:
            await asyncio.wait(
                {call, interrupt},
                timeout=job.time_remaining,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if call.done():
                try:
                    result, meta = call.result()
                    if meta is not job.meta:  # the job ran on a copy
                        job = dataclasses.replace(job, meta=meta)
                except Exception as error:
                    exc = error
            else:
                exc = interrupt.result() if interrupt.done() else None
                if exc is None:
                    assert limit is not None
                    exc = time_limit_error(limit.value, interrupted=self.interrupts_at_deadline)
                job = _snapshot(job, meta_before)
                call.add_done_callback(_discard_outcome)
        finally:
            self.tasks.pop(job.id, None)
            self.interrupts.pop(job.id, None)
        await self.finished(job, exc=exc, result=result)

    async def cancel(self, ref: Reference) -> bool:
        """Report the job failed as cancelled now; its thread runs on until it returns."""
        interrupt = self.interrupts.get(ref.identifier)
        if interrupt is None or interrupt.done() or ref.identifier not in self.jobs:
            return False
        interrupt.set_result(
            JobCancelledError(
                "Job was cancelled while running. Its thread could not be interrupted and "
                "runs on until the function returns; its result is discarded."
            )
        )
        return True

    async def shutdown(self, interrupted: list[QueuedJob]) -> None:
        # Wake every waiting job task rather than cancel it: one may be reporting an
        # outcome right now, and that must not be cut short. Interrupted jobs were
        # taken back by stop(), so their tasks report nothing.
        for interrupt in self.interrupts.values():
            if not interrupt.done():
                interrupt.set_result(JobCancelledError("The worker is stopping."))
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        still = sum(1 for call in self.calls.values() if not call.done())
        if still:
            log.warning(
                "%d job thread(s) of queue %r are still running and cannot be interrupted; "
                "their jobs were put back in the queue and their outcomes will be discarded.",
                still,
                self.queue.name,
            )
        for call in self.calls.values():
            call.add_done_callback(_discard_outcome)
        self.calls.clear()  # this executor is done; the threads finish on their own
        self.pool.shutdown(wait=False, cancel_futures=True)


def _snapshot(job: QueuedJob, fallback: dict[str, Any]) -> QueuedJob:
    """A copy of ``job`` safe to report while its thread may still change its meta."""
    try:
        meta = copy.deepcopy(job.meta)
    except Exception:  # changed while we copied it: keep the meta from before the run
        meta = fallback
    return dataclasses.replace(job, meta=meta)


def _discard_outcome(call: asyncio.Future[Any]) -> None:
    if not call.cancelled():
        call.exception()  # mark it retrieved: nobody waits for an abandoned job

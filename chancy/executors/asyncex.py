"""Run jobs as tasks on the worker's own event loop: the fastest executor for I/O-bound work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chancy.executors.base import Executor, JobCancelledError
from chancy.executors.calling import is_async, time_limit_error
from chancy.job import Limit, QueuedJob, Reference

__all__ = ["AsyncExecutor", "JobCancelledError"]


class AsyncExecutor(Executor):
    """Each job is an asyncio task in the worker's loop.

    Async functions run directly; sync functions run in a thread so they cannot block
    the loop. A TIME limit cancels an async function's task at its deadline, and
    :meth:`cancel` cancels it at once. A sync function's thread can't be interrupted:
    its job is reported at once (timed out or cancelled) and the thread finishes in the
    background, its result discarded, so a time-limited sync function must take a
    ``QueuedJob`` parameter and call its ``checkpoint()``, as on the threaded executor.
    CPU-bound async jobs block the whole worker: use the process executor for those.
    """

    capabilities = (
        Executor.Capability.SYNC_JOBS
        | Executor.Capability.ASYNC_JOBS
        | Executor.Capability.CANCELLATION
        | Executor.Capability.AUTOMATIC_TIME_LIMITS
    )

    def __init__(self, worker: Any, queue: Any) -> None:
        super().__init__(worker, queue)
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self.cancelled: set[Any] = set()

    @classmethod
    def get_default_concurrency(cls) -> int:
        return 100

    @classmethod
    def stops_at_time_limit(cls, func: Callable[..., Any]) -> bool:
        return is_async(func)  # a sync function runs in a thread, which can't be stopped

    def start(self, job: QueuedJob) -> None:
        self.tasks[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")

    async def _run(self, job: QueuedJob) -> None:
        exc: BaseException | None = None
        result: Any = None
        deadline: asyncio.Timeout | None = None
        in_thread = False
        try:
            job, func, kwargs = self.prepare_job_for_execution(job)
            in_thread = not is_async(func)
            call = asyncio.to_thread(func, **kwargs) if in_thread else func(**kwargs)
            remaining = job.time_remaining
            if remaining is None:  # most jobs: no timeout scope to enter and leave
                result = await call
            else:
                async with asyncio.timeout(remaining) as deadline:
                    result = await call
        except TimeoutError as error:
            limit = job.limit(Limit.Type.TIME)
            exc = error
            if limit is not None and deadline is not None and deadline.expired():
                exc = time_limit_error(limit.value, interrupted=not in_thread)
        except asyncio.CancelledError:
            if job.id not in self.cancelled:
                raise  # the executor is stopping: stop() already took the job back
            exc = JobCancelledError("Job was cancelled while running.")
        except Exception as error:
            exc = error
        finally:
            self.tasks.pop(job.id, None)
            self.cancelled.discard(job.id)
        await self.finished(job, exc=exc, result=result)

    async def cancel(self, ref: Reference) -> bool:
        task = self.tasks.get(ref.identifier)
        if task is None or task.done():
            return False
        self.cancelled.add(ref.identifier)
        task.cancel()
        return True

    async def shutdown(self, interrupted: list[QueuedJob]) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

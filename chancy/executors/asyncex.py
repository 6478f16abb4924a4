"""Run jobs as tasks on the worker's own event loop: the fastest executor for I/O-bound work."""

from __future__ import annotations

import asyncio
from typing import Any

from chancy.executors.base import Executor, JobCancelledError
from chancy.executors.calling import is_async, prepare
from chancy.job import Limit, QueuedJob, Reference

__all__ = ["AsyncExecutor", "JobCancelledError"]


class AsyncExecutor(Executor):
    """Each job is an asyncio task in the worker's loop.

    Async functions run directly; sync functions run in a thread so they cannot block
    the loop. A TIME limit cancels the task at its deadline, and :meth:`cancel` cancels it
    at once (a sync function's thread finishes in the background, its result discarded).
    CPU-bound async jobs block the whole worker: use the process executor for those.
    """

    def __init__(self, worker: Any, queue: Any) -> None:
        super().__init__(worker, queue)
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self.cancelled: set[Any] = set()

    @classmethod
    def get_default_concurrency(cls) -> int:
        return 100

    def start(self, job: QueuedJob) -> None:
        self.tasks[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")

    async def _run(self, job: QueuedJob) -> None:
        exc: BaseException | None = None
        result: Any = None
        limit = job.limit(Limit.Type.TIME)
        try:
            func, kwargs = prepare(job)
            async with asyncio.timeout(limit.value if limit else None):
                if is_async(func):
                    result = await func(**kwargs)
                else:
                    result = await asyncio.to_thread(func, **kwargs)
        except TimeoutError as error:
            exc = (
                error
                if limit is None
                else TimeoutError(
                    f"Job exceeded its time limit of {limit.value} seconds and was interrupted."
                )
            )
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

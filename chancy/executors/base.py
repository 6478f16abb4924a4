"""The executor contract shared by every way of running jobs.

An executor runs the jobs one queue's producer hands it, never more than its
``concurrency`` at once, and reports each outcome back to its owner (the worker) through
``job_starting`` and ``job_completed``. Executors know nothing else about the worker,
so this layer imports nothing from it.
"""

from __future__ import annotations

import abc
import functools
import os
from typing import Any, Protocol

from chancy.job import QueuedJob, Reference
from chancy.queue import Queue

__all__ = ["Executor", "ExecutorOwner", "JobCancelledError", "ResultNotReturned"]


class JobCancelledError(Exception):
    """The job was cancelled while it ran. Outcomes never retry it (matched by name)."""


class ResultNotReturned:
    """Reported as a job's result when its value could not be brought back from where
    the job ran (a child process): the job succeeded, and ``reason`` says why its value
    is missing, so the worker records that instead of silently storing nothing."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason,))

    def __repr__(self) -> str:
        return f"ResultNotReturned({self.reason!r})"


class ExecutorOwner(Protocol):
    """What an executor needs from whoever runs it (the worker, or a test double)."""

    async def job_starting(self, executor: Executor, job: QueuedJob) -> QueuedJob: ...

    async def job_completed(
        self, executor: Executor, job: QueuedJob, *, exc: BaseException | None, result: Any
    ) -> None: ...


def cpu_count() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return counter() or 1


class Executor(abc.ABC):
    """Base class of executors. Subclass it and name it in ``Queue(executor=...)``;
    ``Queue.executor_options`` become keyword arguments of the constructor."""

    def __init__(self, worker: ExecutorOwner, queue: Queue) -> None:
        self.worker = worker
        self.queue = queue
        #: Jobs handed to this executor and not yet reported, by id.
        self.jobs: dict[Any, QueuedJob] = {}

    @functools.cached_property
    def concurrency(self) -> int:
        return self.queue.concurrency or self.get_default_concurrency()

    @property
    def free_slots(self) -> int:
        return self.concurrency - len(self)

    def __len__(self) -> int:
        return len(self.jobs)

    async def push(self, job: QueuedJob) -> None:
        """Start running ``job``; returns once it has been handed off."""
        job = await self.worker.job_starting(self, job)
        self.jobs[job.id] = job
        self.start(job)

    async def finished(
        self, job: QueuedJob, *, exc: BaseException | None = None, result: Any = None
    ) -> None:
        """Subclasses call this once per job when it ends, however it ended."""
        if self.jobs.pop(job.id, None) is None:
            return  # already taken back by stop(): its outcome is the worker's to decide
        await self.worker.job_completed(self, job, exc=exc, result=result)

    def running(self, ref: Reference) -> QueuedJob | None:
        return self.jobs.get(ref.identifier)

    async def stop(self) -> list[QueuedJob]:
        """Interrupt whatever is still running and release resources.

        Returns the interrupted jobs, which were not reported, so the worker can put
        them back in the queue. The worker calls this after draining (or timing out).
        """
        interrupted = list(self.jobs.values())
        self.jobs.clear()
        await self.shutdown(interrupted)
        return interrupted

    @abc.abstractmethod
    def start(self, job: QueuedJob) -> None:
        """Begin running ``job`` without waiting for it."""

    @abc.abstractmethod
    async def cancel(self, ref: Reference) -> bool:
        """Interrupt the running job ``ref`` if it runs here; True if it did."""

    @abc.abstractmethod
    async def shutdown(self, interrupted: list[QueuedJob]) -> None:
        """Stop running ``interrupted`` jobs and release the executor's resources."""

    @classmethod
    @abc.abstractmethod
    def get_default_concurrency(cls) -> int:
        """Slots when the queue does not set ``concurrency``."""

    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(queue={self.queue.name!r}, running={len(self)})>"

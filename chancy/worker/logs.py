"""What the worker logs, and the structured fields each record carries.

Lines an operator acts on: each failed or retried job at WARNING (id, function, queue,
attempt and the error's last line), its traceback at DEBUG, each success at DEBUG, a
start line naming the queues, executors and slots served, and a stopped line. Every
record has ``worker_id`` in its ``extra`` (through :class:`WorkerLog`), and job records
add ``job_id``, ``queue`` and ``func``, so a JSON formatter can emit them as fields.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, MutableMapping
from typing import Any

from chancy.executors.base import Executor
from chancy.job import QueuedJob
from chancy.queue import Queue
from chancy.utils import import_string

State = QueuedJob.State
Log = logging.Logger | logging.LoggerAdapter  # type: ignore[type-arg]
#: Longest error summary put in a WARNING line (the full traceback is at DEBUG).
MAX_SUMMARY = 500


class WorkerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The app's logger with this worker's fields added to every record's ``extra``.

    Unlike the stock adapter (before Python 3.13) it merges them with the call's own
    ``extra`` instead of replacing it.
    """

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


def job_fields(job: QueuedJob) -> dict[str, Any]:
    return {
        "job_id": str(job.id),
        "queue": job.queue,
        "func": job.func,
        "attempt": job.attempts,
        "max_attempts": job.max_attempts,
        "state": job.state.value,
    }


def error_summary(exc: BaseException) -> str:
    """The error's last traceback line (``Type: message``), on one line."""
    lines = "".join(traceback.format_exception_only(exc)).strip().splitlines()
    summary = lines[0].strip() if lines else type(exc).__name__
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 3] + "..."


def job_finished(log: Log, job: QueuedJob, exc: BaseException | None) -> None:
    """Log one run's outcome; ``job`` is its new state (after plugins had their say)."""
    if exc is None:
        if log.isEnabledFor(logging.DEBUG):  # the hot path: build nothing unless shown
            log.debug(
                "Job %s (%s) succeeded on queue %r (attempt %d).",
                job.id,
                job.func,
                job.queue,
                job.attempts,
                extra=job_fields(job),
            )
        return
    fields = job_fields(job)
    fields["error"] = summary = error_summary(exc)
    ending = "and will not be retried" if job.state is State.FAILED else "and will be retried"
    log.warning(
        "Job %s (%s) on queue %r failed on attempt %d of %d %s: %s",
        job.id,
        job.func,
        job.queue,
        job.attempts,
        job.max_attempts,
        ending,
        summary,
        extra=fields,
    )
    if log.isEnabledFor(logging.DEBUG):
        log.debug("Traceback of job %s (%s):", job.id, job.func, exc_info=exc, extra=fields)


def result_not_stored(
    log: Log,
    job: QueuedJob,
    reason: str,
) -> None:
    log.warning(
        "Job %s (%s) on queue %r succeeded, but its result was not stored: %s. The reason "
        "is in the job's meta['result_error'].",
        job.id,
        job.func,
        job.queue,
        reason,
        extra={**job_fields(job), "result_error": reason},
    )


def slots(queue: Queue, executor: Executor | None, override: int | None = None) -> int | None:
    """The queue's slots on this worker: its executor's, or ``Worker(concurrency=)``,
    the queue's, or the executor class's default."""
    if executor is not None:
        return executor.concurrency
    if override is not None or queue.concurrency is not None:
        return override or queue.concurrency
    try:
        return import_string(queue.executor).get_default_concurrency()
    except Exception:  # a bad executor path: the queue's own error says so
        return None


def describe_queues(
    served: Iterable[tuple[Queue, Executor | None]], override: int | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "queue": queue.name,
            "executor": queue.executor.rpartition(".")[2],
            "slots": slots(queue, executor, override),
        }
        for queue, executor in sorted(served, key=lambda pair: pair[0].name)
    ]


def worker_started(
    log: Log,
    worker_id: str,
    queues: list[dict[str, Any]],
) -> None:
    listed = ", ".join(f"{q['queue']} ({q['executor']}, {q['slots']} slots)" for q in queues)
    log.info(
        "Worker %s started, serving %s.",
        worker_id,
        listed or "no queues yet",
        extra={"queues": queues},
    )


def worker_stopped(
    log: Log,
    worker_id: str,
    *,
    clean: bool,
) -> None:
    how = "" if clean else " (shutdown timeout: unfinished jobs were put back in their queues)"
    log.info("Worker %s stopped%s.", worker_id, how, extra={"clean": clean})

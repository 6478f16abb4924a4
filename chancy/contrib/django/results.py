"""Django ``TaskResult`` values built from chancy jobs."""

from __future__ import annotations

from typing import Any

from django.tasks.base import Task, TaskError, TaskResult, TaskResultStatus
from django.utils.module_loading import import_string

from chancy.job import QueuedJob

STATUS = {
    "pending": TaskResultStatus.READY,
    "retrying": TaskResultStatus.READY,
    "running": TaskResultStatus.RUNNING,
    "failed": TaskResultStatus.FAILED,
    "succeeded": TaskResultStatus.SUCCESSFUL,
}


def exception_path(traceback: str) -> str:
    """The dotted exception class from a formatted traceback's last line."""
    last = next((line for line in reversed(traceback.strip().splitlines()) if line), "")
    name = last.split(":", 1)[0].strip() or "Exception"
    return name if "." in name else f"builtins.{name}"


def task_result_for(
    job: QueuedJob, *, backend: str = "default", running: bool = False
) -> TaskResult:
    """A ``TaskResult`` describing ``job``; ``running`` counts the attempt in progress."""
    kwargs = job.kwargs or {}
    task: Task = import_string(kwargs["_task_path"])
    attempts = job.attempts + (1 if running else 0)
    state = "running" if running else str(job.state)
    result = TaskResult(
        task=task,
        id=str(job.id),
        status=STATUS[state],
        enqueued_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.completed_at,
        last_attempted_at=job.started_at,
        args=list(kwargs.get("_args") or []),
        kwargs=dict(kwargs.get("_kwargs") or {}),
        backend=backend,
        errors=[
            TaskError(exception_class_path=exception_path(e["traceback"]), traceback=e["traceback"])
            for e in job.errors
        ],
        worker_ids=[job.taken_by or ""] * attempts,
    )
    value: Any = getattr(job, "result", None)
    object.__setattr__(result, "_return_value", value)
    return result

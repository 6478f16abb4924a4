"""The chancy jobs that run Django Tasks on a chancy worker.

:class:`~chancy.contrib.django.backend.ChancyBackend` pushes one of these two functions
with the task's import path and arguments; the worker imports the task, calls it (with a
``TaskContext`` when the task asks for one) and returns its JSON-normalised return value,
which chancy stores as the job's result. Django must be set up in the worker process
(``django.setup()`` in the module named by ``--app``; the Process executor does it in its
children when ``DJANGO_SETTINGS_MODULE`` is set).
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections
from django.tasks.base import Task, TaskContext
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from chancy.contrib.django.results import task_result_for
from chancy.job import QueuedJob

__all__ = ["async_django_task_executor", "django_task_executor"]


def _task(path: str) -> Task:
    task = import_string(path)
    if not isinstance(task, Task):
        raise TypeError(f"{path!r} is not a Django Task; decorate it with @task.")
    return task


def _call_args(task: Task, job: QueuedJob, args: list[Any], takes_context: bool) -> list[Any]:
    if not takes_context:
        return list(args)
    return [TaskContext(task_result=task_result_for(job, running=True)), *args]


def django_task_executor(
    *,
    _task_path: str,
    _args: list[Any],
    _kwargs: dict[str, Any],
    _takes_context: bool = False,
    job: QueuedJob,
) -> Any:
    """Run a sync Django Task (an async one is run to completion by ``Task.call``).

    Database connections are closed around the call, as Django does around a request:
    a worker thread must not keep a connection that outlives ``CONN_MAX_AGE``.
    """
    task = _task(_task_path)
    close_old_connections()
    try:
        result = task.call(*_call_args(task, job, _args, _takes_context), **_kwargs)
    finally:
        close_old_connections()
    return normalize_json(result)


async def async_django_task_executor(
    *,
    _task_path: str,
    _args: list[Any],
    _kwargs: dict[str, Any],
    _takes_context: bool = False,
    job: QueuedJob,
) -> Any:
    """Run an async Django Task on the worker's event loop (Async executor queues)."""
    task = _task(_task_path)
    result = await task.acall(*_call_args(task, job, _args, _takes_context), **_kwargs)
    return normalize_json(result)

"""A Django 6 Tasks backend that stores tasks as chancy jobs.

Configure it in ``settings.TASKS``::

    TASKS = {
        "default": {
            "BACKEND": "chancy.contrib.django.backend.ChancyBackend",
            "QUEUES": [],                       # any queue name
            "OPTIONS": {"prefix": "chancy_", "queue": "default"},
        }
    }

Options: ``dsn`` (default: Django's ``default`` database), ``prefix`` (default
``settings.CHANCY_PREFIX`` or ``chancy_``) and ``queue`` (the chancy queue for tasks left
on Django's default queue name, default ``"default"``; a task given another
``queue_name`` goes to the chancy queue of that name).

Without ``dsn``, a task is pushed on Django's own database connection, so enqueuing inside
``transaction.atomic()`` commits and rolls back with the block. With a ``dsn``, chancy
pushes on its own connection and the push commits at once.

Django passes positional and keyword arguments; chancy jobs take keyword arguments only,
so both travel as JSON in the wrapper job's kwargs (``_args``, ``_kwargs``) and the
worker calls the task with them unchanged. ``run_after`` becomes the job's
``scheduled_at`` and the task's priority (-100..100, higher first) its priority.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from inspect import iscoroutinefunction
from typing import Any

from django.db import connections
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import DEFAULT_TASK_QUEUE_NAME, Task, TaskResult
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.json import normalize_json

from chancy.app import Chancy
from chancy.contrib.django.app import new_chancy
from chancy.contrib.django.results import task_result_for
from chancy.job import Job, QueuedJob, Reference

__all__ = ["ChancyBackend"]

WRAPPER = "chancy.contrib.django.task_wrapper.django_task_executor"
ASYNC_WRAPPER = "chancy.contrib.django.task_wrapper.async_django_task_executor"


class ChancyBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.dsn = self.options.get("dsn")
        self.prefix = self.options.get("prefix")
        self.queue = self.options.get("queue", DEFAULT_TASK_QUEUE_NAME)

    @functools.cached_property
    def chancy(self) -> Chancy:
        return new_chancy(self.dsn, self.prefix)

    def job_for(self, task: Task, args: Any, kwargs: Any) -> Job:
        """The chancy job that runs ``task(*args, **kwargs)`` on a worker."""
        queue = self.queue if task.queue_name == DEFAULT_TASK_QUEUE_NAME else task.queue_name
        job = Job(
            func=ASYNC_WRAPPER if iscoroutinefunction(task.func) else WRAPPER,
            queue=queue,
            priority=task.priority,
            kwargs={
                "_task_path": task.module_path,
                "_args": normalize_json(list(args)),
                "_kwargs": normalize_json(dict(kwargs)),
                "_takes_context": task.takes_context,
            },
        )
        if task.run_after is not None:
            job = job.with_scheduled_at(task.run_after)
        return job

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        job = self.job_for(task, args, kwargs)
        if self.dsn is None:
            # Django's own connection: the push joins whatever transaction is open on it.
            connection = connections["default"]
            connection.ensure_connection()
            ref = self.chancy.sync_push_ex(connection.connection, job)
        else:
            ref = self.chancy.sync_push(job)
        # Built from what was pushed, not read back: inside an open atomic() block the
        # row is not visible to any other connection yet.
        queued = QueuedJob(
            **{f.name: getattr(job, f.name) for f in dataclasses.fields(Job)},
            id=ref.identifier,
            created_at=timezone.now(),
        )
        result = task_result_for(queued, backend=self.alias)
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        try:
            ref = Reference(uuid.UUID(str(result_id)))
        except ValueError:
            raise TaskResultDoesNotExist(result_id) from None
        job = self.chancy.sync_get_job(ref)
        if job is None:
            raise TaskResultDoesNotExist(result_id)
        return task_result_for(job, backend=self.alias)

"""Sequence: a workflow whose steps run one after the other, and its push.

Kept apart from :mod:`chancy.plugins.workflow.model` (values, no I/O) because
:meth:`Sequence.push` writes through :class:`WorkflowPlugin`, which itself imports the
values: the plugin sits between them, so no module imports one that imports it back.
"""

from __future__ import annotations

import uuid
from typing import Any

from chancy.job import Job, as_job
from chancy.plugins.workflow.model import JobLike, Workflow
from chancy.plugins.workflow.plugin import WorkflowPlugin

__all__ = ["Sequence"]


class Sequence:
    """Jobs that run one after another: a workflow whose step ``n`` depends on ``n - 1``.

    Steps are named ``step_0``, ``step_1``, ...
    """

    def __init__(self, name: str, jobs: list[JobLike] | None = None) -> None:
        self.name = name
        self.jobs: list[Job] = [as_job(j) for j in jobs or []]

    def add(self, job: JobLike) -> Sequence:
        self.jobs.append(as_job(job))
        return self

    def to_workflow(self) -> Workflow:
        workflow = Workflow(self.name)
        for i, job in enumerate(self.jobs):
            workflow.add(f"step_{i}", job, [f"step_{i - 1}"] if i else None)
        return workflow

    async def push(self, chancy: Any) -> uuid.UUID:
        """Push as a workflow (see :meth:`WorkflowPlugin.push`); returns its id."""
        return await WorkflowPlugin.push(chancy, self.to_workflow())

"""chancy: a Postgres job queue for SQLAlchemy applications."""

from __future__ import annotations

from chancy.app import Chancy, setup_default_logger
from chancy.job import IsAJob, Job, Limit, QueuedJob, Reference, job
from chancy.queue import Queue
from chancy.worker import Worker

__all__ = [
    "Chancy",
    "IsAJob",
    "Job",
    "Limit",
    "Queue",
    "QueuedJob",
    "Reference",
    "Worker",
    "job",
    "setup_default_logger",
]

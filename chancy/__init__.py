"""chancy: a Postgres job queue for SQLAlchemy applications."""

from __future__ import annotations

from importlib import metadata as _metadata

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

try:
    #: The installed distribution's version (``chancy --version`` prints it).
    __version__ = _metadata.version("chancy")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

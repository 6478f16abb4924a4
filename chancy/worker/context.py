"""What the worker's parts need from the worker, as a Protocol.

The producers, the queue assignment, the registry and the undeclared-queue check each
take a :class:`WorkerContext` instead of the :class:`~chancy.worker.Worker` itself, so
they cannot reach into each other through it, they do not import the module that
imports them, and a test can drive any of them with a small fake. The worker is the
one implementation; its parts talk back to it only through the callbacks listed here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from chancy.app import Chancy
from chancy.backoff import DatabaseRetry
from chancy.executors.base import ExecutorOwner
from chancy.hub import Hub

__all__ = ["WorkerContext"]


class WorkerContext(ExecutorOwner, Protocol):
    """The worker as its parts see it (and as executors see it: an ExecutorOwner)."""

    worker_id: str
    #: The app: its transactional engine, models, notifications and queue API.
    chancy: Chancy
    hub: Hub
    log: logging.Logger
    #: The worker's autocommit engine, for single-statement claims.
    engine: AsyncEngine
    #: Set the instant a stop begins: nothing claims after it.
    shutdown_event: asyncio.Event
    is_leader: asyncio.Event
    #: Serve only these queues (None: every queue whose tags match).
    queues: set[str] | None
    #: Per-worker slots overriding each queue's concurrency (None: the queue's own).
    concurrency: int | None
    heartbeat_poll_interval: float
    heartbeat_timeout: float
    queue_change_poll_interval: float

    def worker_tags(self) -> set[str]:
        """Tags that queue tag patterns are matched against."""
        ...

    def served_queues(self) -> list[str]:
        """The names of the queues this worker serves now, sorted."""
        ...

    def database_retry(self, name: str) -> DatabaseRetry:
        """Fresh backoff state for one database loop."""
        ...

    def queues_changed(self) -> None:
        """The set of served queues changed: announce it now."""
        ...

    def loop_failed(self, name: str, exc: BaseException) -> None:
        """A loop gave up (its retries ran out): stop the worker and report ``exc``."""
        ...

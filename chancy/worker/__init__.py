"""The worker: see :class:`chancy.worker.worker.Worker`."""

from __future__ import annotations

from chancy.worker.worker import Worker

__all__ = ["Worker"]

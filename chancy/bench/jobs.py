"""The job functions the benchmark runs. Importable by path, so any executor can run them.

``noop`` and ``noop_sync`` do nothing, so a drain measures only the queue's own cost.
``record_start`` notes when it started (in this process) for the latency suite, which
runs its worker in the same process as the pushes.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from chancy.job import QueuedJob

#: Job id -> ``time.perf_counter()`` at the moment ``record_start`` began.
STARTED: dict[uuid.UUID, float] = {}
#: Set by ``record_start``; the latency suite makes a fresh one per run (an Event is
#: bound to the loop that first waits on it).
_arrived: asyncio.Event | None = None

NOOP = "chancy.bench.jobs.noop"
NOOP_SYNC = "chancy.bench.jobs.noop_sync"
RECORD_START = "chancy.bench.jobs.record_start"


async def noop() -> None:
    """Do nothing, asynchronously."""


def noop_sync() -> None:
    """Do nothing, in a thread or child process."""


async def record_start(*, job: QueuedJob) -> None:
    """Record the start time of this run, keyed by job id."""
    STARTED[job.id] = time.perf_counter()
    if _arrived is not None:
        _arrived.set()


def arrival_event() -> asyncio.Event:
    """A fresh event that ``record_start`` sets; call it inside the running loop."""
    global _arrived
    _arrived = asyncio.Event()
    STARTED.clear()
    return _arrived

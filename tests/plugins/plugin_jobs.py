"""Job functions the plugin tests push (importable by dotted path)."""

from __future__ import annotations

import asyncio
import time

from chancy.job import QueuedJob

#: (attempt, start time) of each run of ``fail_then_succeed``, by job id.
RUNS: dict[str, list[tuple[int, float]]] = {}


async def ok() -> str:
    return "ok"


async def fail(kind: str = "ValueError") -> None:
    """Raise the builtin exception named ``kind``."""
    raise {"ValueError": ValueError, "KeyError": KeyError, "OSError": OSError}[kind]("failing")


async def fail_then_succeed(*, job: QueuedJob) -> int:
    """Fails on every attempt but the last one allowed (``job.attempts`` counts the
    runs before this one, as upstream)."""
    RUNS.setdefault(str(job.id), []).append((job.attempts, time.time()))
    if job.attempts + 1 < job.max_attempts:
        raise ConnectionError(f"attempt {job.attempts} failed")
    return job.attempts


async def forever() -> None:
    await asyncio.Event().wait()


async def hang_first(*, job: QueuedJob) -> int:
    """Hangs on its first attempt (its worker is killed there), succeeds afterwards."""
    if not job.errors:  # the first run (a rescue leaves an error entry, not an attempt)
        await asyncio.Event().wait()
    return job.attempts

"""Job functions for the executor tests, importable by dotted path in child processes.

Jobs leave evidence in files (under a directory the test passes in) rather than in
memory, because on the process executor they run in another process.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from chancy.job import QueuedJob


def sync_meta(value: str, *, job: QueuedJob) -> dict[str, object]:
    """Changes the running job's meta; returns where it ran."""
    job.meta["seen"] = value
    job.meta["sync"] = True
    return {"pid": os.getpid(), "thread": threading.get_ident()}


async def async_meta(value: str, *, job: QueuedJob) -> dict[str, object]:
    await asyncio.sleep(0)
    job.meta["seen"] = value
    job.meta["async"] = True
    return {"pid": os.getpid(), "thread": threading.get_ident()}


def whereabouts(*, job: QueuedJob) -> None:
    """Records the process and thread it ran in, in its meta."""
    job.meta["pid"] = os.getpid()
    job.meta["thread"] = threading.current_thread().name


def fail(message: str) -> None:
    raise ValueError(message)


async def async_fail(message: str) -> None:
    await asyncio.sleep(0)
    raise KeyError(message)


def takes_only_a(a: int) -> int:
    return a


def touch_and_sleep(path: str, seconds: float) -> str:
    """Signals it started (by creating ``path``), then sleeps ``seconds``."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "slept"


def touch(path: str) -> int:
    Path(path).write_text(str(os.getpid()))
    return os.getpid()


def allocate(megabytes: int) -> int:
    """Allocates (and touches) ``megabytes`` MiB."""
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def hard_exit(code: int) -> None:
    os._exit(code)


class UnpicklableError(Exception):
    """An exception carrying a lock, which pickle refuses."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def raise_unpicklable(message: str) -> None:
    raise UnpicklableError(message)


def return_unpicklable() -> object:
    return threading.Lock()


def span(directory: str, hold: float) -> None:
    """Records when it ran as ``start end`` in its own file under ``directory``."""
    started = time.time()
    time.sleep(hold)
    ended = time.time()
    name = f"{os.getpid()}-{threading.get_ident()}-{started}"
    Path(directory, name).write_text(f"{started} {ended}")


def read_spans(directory: str) -> list[tuple[float, float]]:
    spans = []
    for path in Path(directory).iterdir():
        start, end = path.read_text().split()
        spans.append((float(start), float(end)))
    return spans


def noop() -> None:
    return None


async def async_noop() -> None:
    return None


def record(dsn: str, table: str, job_id: object, kind: str) -> None:
    """Insert a ``(job_id, kind, pid, at)`` row into ``table`` on a short connection."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (job_id, kind, pid, at) VALUES (%s, %s, %s, %s)").format(
                sql.Identifier(table)
            ),
            (job_id, kind, os.getpid(), time.time()),
        )


def recorded_sleep(dsn: str, table: str, seconds: float, *, job: QueuedJob) -> None:
    """Records that it started, sleeps ``seconds``, then records that it finished."""
    record(dsn, table, job.id, "start")
    time.sleep(seconds)
    record(dsn, table, job.id, "end")


def touch_and_sleep_with_context(path: str, seconds: float, *, job: QueuedJob) -> str:
    """``touch_and_sleep`` taking its job (so a cooperative TIME limit accepts it), and
    never calling ``checkpoint()``: it records the time it had left when it started."""
    Path(path).write_text(str(job.time_remaining))
    time.sleep(seconds)
    return "slept"


def until_checkpoint_stops(path: str, *, job: QueuedJob) -> None:
    """Loops on ``checkpoint()`` (recording ``time_remaining`` first) until it raises."""
    Path(path).write_text(str(job.time_remaining))
    while True:
        time.sleep(0.02)
        job.checkpoint()


async def async_until_checkpoint_stops(path: str, *, job: QueuedJob) -> None:
    Path(path).write_text(str(job.time_remaining))
    while True:
        await asyncio.sleep(0.02)
        job.checkpoint()

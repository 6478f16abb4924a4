"""Job functions the worker tests push; importable by dotted path in-process and in subprocesses.

Jobs that must leave evidence beyond their own row (exactly-once, overlap, rate) write to
a side table through one raw psycopg connection per process and event loop, so 2,000
short jobs don't open 2,000 connections.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
from psycopg import sql

from chancy.job import QueuedJob

#: Calls made in this process, for in-process tests: (func name, kwargs).
CALLS: list[tuple[str, dict[str, Any]]] = []
_gates: dict[str, asyncio.Event] = {}
_opening: dict[tuple[str, int], asyncio.Lock] = {}
#: Per (dsn, event loop): idle side connections, and every one opened (to close them).
_idle: dict[tuple[str, int], asyncio.Queue[psycopg.AsyncConnection[Any]]] = {}
_opened: dict[tuple[str, int], list[psycopg.AsyncConnection[Any]]] = {}
#: Several connections, so one slow round trip doesn't hold up every other job's insert.
SIDE_CONNECTIONS = 4


def add(a: int, b: int) -> int:
    CALLS.append(("add", {"a": a, "b": b}))
    return a + b


async def async_add(a: int, b: int) -> int:
    CALLS.append(("async_add", {"a": a, "b": b}))
    return a + b


async def note(label: str) -> str:
    """Records the order in which jobs run (within one in-process worker)."""
    CALLS.append(("note", {"label": label}))
    return label


def boom(message: str = "boom") -> None:
    raise RuntimeError(message)


async def sleep_for(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "slept"


def gate(name: str) -> asyncio.Event:
    """The in-process event a ``wait_for_gate`` job named ``name`` waits on."""
    return _gates.setdefault(name, asyncio.Event())


async def wait_for_gate(name: str) -> str:
    CALLS.append(("wait_for_gate", {"name": name}))
    await gate(name).wait()
    return name


async def _side_connections(dsn: str) -> asyncio.Queue[psycopg.AsyncConnection[Any]]:
    key = (dsn, id(asyncio.get_running_loop()))
    opening = _opening.setdefault(key, asyncio.Lock())
    async with opening:  # concurrent first jobs must not each open (and leak) a set
        if key not in _idle:
            idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
            opened = _opened[key] = []
            for _ in range(SIDE_CONNECTIONS):
                conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
                # Evidence for a test, not data to keep: no disk flush per row.
                await conn.execute("SET synchronous_commit = off")
                opened.append(conn)
                idle.put_nowait(conn)
            _idle[key] = idle
    return _idle[key]


async def record_run(*, dsn: str, table: str, hold: float = 0.0, job: QueuedJob) -> str:
    """Insert (job id, worker, start, end) into ``table`` after holding a slot ``hold`` s."""
    started = time.time()
    if hold:
        await asyncio.sleep(hold)
    ended = time.time()
    idle = await _side_connections(dsn)
    conn = await idle.get()
    try:
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (job_id, worker, started, ended) VALUES (%s, %s, %s, %s)"
            ).format(sql.Identifier(table)),
            (job.id, job.taken_by, started, ended),
        )
    finally:
        idle.put_nowait(conn)
    return str(job.id)


def takes_context(*, job: QueuedJob) -> int:
    return job.attempts


async def note_attempts(*, job: QueuedJob) -> None:
    """Records in its meta the ``attempts`` each run saw; fails on all but the last."""
    job.meta["seen"] = [*job.meta.get("seen", []), job.attempts]
    if len(job.meta["seen"]) < job.max_attempts:
        raise RuntimeError("not yet")


async def close_side_connections() -> None:
    """Close this loop's side-table connections (call before the loop ends)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _opened if k[1] == loop_id]:
        _idle.pop(key, None)
        _opening.pop(key, None)
        for conn in _opened.pop(key):
            await conn.close()

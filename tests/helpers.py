"""Reading and writing job rows directly, and waiting for events, for every test folder.

Tests set up exact situations (a job finished long ago, claimed by a vanished worker)
with plain UPDATEs through ``app.models.Job``, and check results by reading the rows,
without going through the API under test. Every reader filters the same way: by
references and by ``column=value`` pairs.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chancy import Chancy, Reference
from chancy.db.statements import jobs as jobs_sql
from chancy.hub import Event, Hub
from chancy.job import QueuedJob


def _where(app: Chancy, stmt: Any, refs: Iterable[Reference] | None, where: dict[str, Any]) -> Any:
    table = app.models.Job.__table__
    if refs is not None:
        stmt = stmt.where(table.c.id.in_([r.identifier for r in refs]))
    for column, value in where.items():
        stmt = stmt.where(table.c[column] == value)
    return stmt


#: A connection or session of the test's own (say, the ``tx`` fixture's, inside a
#: transaction rolled back afterwards): readers and writers given one use it, uncommitted
#: rows included, instead of a connection of their own.
Via = AsyncConnection | AsyncSession | None


@contextlib.asynccontextmanager
async def _connection(app: Chancy, via: Via, *, write: bool = False) -> AsyncIterator[Any]:
    if via is not None:
        yield via
        return
    async with app.engine.begin() if write else app.engine.connect() as conn:
        yield conn


async def job_rows(
    app: Chancy, refs: Iterable[Reference] | None = None, *, via: Via = None, **where: Any
) -> list[dict[str, Any]]:
    """The matching job rows as dicts, oldest first."""
    table = app.models.Job.__table__
    stmt = _where(app, sa.select(table).order_by(table.c.id), refs, where)
    async with _connection(app, via) as conn:
        return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]


async def job_row(app: Chancy, ref: Reference, *, via: Via = None) -> dict[str, Any]:
    """One job's row as a dict; fails if it does not exist."""
    (row,) = await job_rows(app, [ref], via=via)
    return row


async def rows(app: Chancy, refs: Iterable[Reference] | None = None) -> dict[uuid.UUID, Any]:
    """The matching job rows by id (Row objects: ``rows[id].state``)."""
    stmt = _where(app, sa.select(app.models.Job.__table__), refs, {})
    async with app.engine.connect() as conn:
        return {row.id: row for row in (await conn.execute(stmt)).all()}


async def count_jobs(app: Chancy, *, via: Via = None, **where: Any) -> int:
    table = app.models.Job.__table__
    stmt = _where(app, sa.select(sa.func.count()).select_from(table), None, where)
    async with _connection(app, via) as conn:
        return (await conn.execute(stmt)).scalar_one()


async def states(app: Chancy) -> dict[str, int]:
    """How many jobs are in each state."""
    table = app.models.Job.__table__
    stmt = sa.select(table.c.state, sa.func.count()).group_by(table.c.state)
    async with app.engine.connect() as conn:
        return {row[0]: row[1] for row in (await conn.execute(stmt)).all()}


async def update_jobs(
    app: Chancy, refs: Iterable[Reference], *, via: Via = None, **values: Any
) -> None:
    """Set columns of the given jobs directly (``values`` may hold SQL expressions)."""
    table = app.models.Job.__table__
    stmt = _where(app, sa.update(table), refs, {}).values(**values)
    async with _connection(app, via, write=True) as conn:
        await conn.execute(stmt)


async def set_state(app: Chancy, ref: Reference, state: str, *, via: Via = None) -> None:
    """Move a job to ``state`` directly, as a worker (or an operator) would."""
    await update_jobs(app, [ref], via=via, state=state)


# -- waiting -------------------------------------------------------------------------


class EventLog:
    """Every event on a hub, in order, with waits for the next one that matches.

    Recording starts when the log is made (before the worker starts), so nothing can be
    missed between "do something" and "wait for it". A wait that times out fails the
    test, naming what it waited for.
    """

    def __init__(self, hub: Hub) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()
        hub.on_any(self._record)

    async def _record(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def mark(self) -> int:
        """A position: ``wait(..., since=mark)`` ignores events recorded before it."""
        return len(self.events)

    def matching(self, name: str, queue: str | None = None, since: int = 0) -> list[Event]:
        return [e for e in self.events[since:] if _matches(e, name, queue)]

    async def wait(
        self, name: str, *, queue: str | None = None, since: int = 0, timeout: float = 5
    ) -> Event:
        what = f"a {name!r} event" + (f" for queue {queue!r}" if queue else "")
        async with _failing_after(timeout, what), self._changed:
            while True:
                found = self.matching(name, queue, since)
                if found:
                    return found[0]
                await self._changed.wait()

    async def wait_until(
        self, check: Callable[[], bool], *, timeout: float = 5, what: str = "check() held"
    ) -> None:
        """Wait until ``check()`` holds; re-checked after every event."""
        async with _failing_after(timeout, what), self._changed:
            while not check():
                await self._changed.wait()

    async def recheck_on(
        self,
        name: str,
        check: Callable[[], Awaitable[Any]],
        *,
        what: str,
        timeout: float = 5,
    ) -> Any:
        """Await ``check()`` now and again after each ``name`` event until it returns
        something true (which is returned): for a state the event announces but only
        the database holds."""
        async with _failing_after(timeout, what):
            while True:
                mark = self.mark()  # before the check, so no event can slip between
                found = await check()
                if found:
                    return found
                await self.wait(name, since=mark, timeout=timeout)

    async def job_started(self, ref: Reference, *, timeout: float = 5) -> QueuedJob:
        """The job as it began to run here (``watch_jobs`` reports it once its executor
        holds it: its row is ``running`` and ``executor.running(ref)`` finds it)."""
        return await self._job(JOB_STARTED, ref, None, timeout)

    async def job_completed(
        self, ref: Reference, state: str | None = None, *, timeout: float = 5
    ) -> QueuedJob:
        """The job as its run ended here (its new state, before it is written), in
        ``state`` if given; its executor slot is free by then."""
        return await self._job(JOB_COMPLETED, ref, state, timeout)

    async def job_saved(
        self, ref: Reference, state: str | None = None, *, timeout: float = 5
    ) -> QueuedJob:
        """The job as the worker's completer wrote it (``worker.jobs.updated``), in
        ``state`` if given (any state otherwise)."""
        return await self._job("worker.jobs.updated", ref, state, timeout)

    async def _job(self, name: str, ref: Reference, state: str | None, timeout: float) -> Any:
        def found() -> Any:
            for event in self.matching(name):
                for job in event.body.get("jobs", ()):
                    if job.id == ref.identifier and state in (None, job.state):
                        return job
            return None

        await self.wait_until(
            lambda: found() is not None,
            timeout=timeout,
            what=f"{name!r} for job {ref.identifier} in state {state or 'any'}",
        )
        return found()


def _matches(event: Event, name: str, queue: str | None) -> bool:
    if event.name != name:
        return False
    if queue is None:
        return True
    found = event.body.get("queue")
    return getattr(found, "name", found) == queue or event.body.get("q") == queue


#: Emitted on a watched worker's hub as each job starts and ends (tests only; see
#: watch_jobs).
JOB_STARTED = "test.job.started"
JOB_COMPLETED = "test.job.completed"


class _JobWatch:
    """A plugin-shaped hook: reports every job starting and ending on the worker's hub.

    The report is a task of its own, so it is heard after the executor has taken the
    job (``executor.running(ref)`` finds it) or let it go (its slot is free).
    """

    def __init__(self) -> None:
        self._reports: set[asyncio.Task[None]] = set()

    def _report(self, worker: Any, name: str, job: QueuedJob) -> None:
        report = asyncio.ensure_future(worker.hub.emit(name, {"jobs": [job]}))
        self._reports.add(report)
        report.add_done_callback(self._reports.discard)

    async def on_job_starting(self, *, job: QueuedJob, worker: Any) -> None:
        self._report(worker, JOB_STARTED, job)

    async def on_job_completed(self, *, job: QueuedJob, worker: Any, **_: Any) -> None:
        self._report(worker, JOB_COMPLETED, job)


def watch_jobs(worker: Any) -> None:
    """Make ``worker`` (not yet started) emit ``test.job.started`` and
    ``test.job.completed`` as each job starts and ends.

    Added to this worker's hooks only: the app and its plugins are untouched.
    """
    worker.hooks.plugins.append(_JobWatch())


@contextlib.asynccontextmanager
async def _failing_after(timeout: float, what: str) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError:
        raise AssertionError(f"Timed out after {timeout} s waiting for {what}.") from None


async def poll_until(
    check: Callable[[], Any], *, what: str, timeout: float = 5, interval: float = 0.02
) -> None:
    """Re-check ``check()`` (plain or async) every ``interval`` seconds until it holds.

    Only for a condition no event in this process reports: a row a worker in another
    process writes, a child process's file or exit, a file a job's thread writes, a
    Postgres lock wait, a server process starting to listen. What an
    in-process worker does is awaited on its hub (:class:`EventLog`) instead.
    """
    async with _failing_after(timeout, what):
        while True:
            held = check()
            if inspect.isawaitable(held):
                held = await held
            if held:
                return
            await asyncio.sleep(interval)


class LogWatch(logging.Handler):
    """Sets ``seen`` when a record matching ``predicate`` reaches the root logger, so a
    test awaits a log line: ``with LogWatch(pred) as watch: ...; await watch.wait()``."""

    def __init__(self, predicate: Callable[[logging.LogRecord], bool]) -> None:
        super().__init__()
        self.predicate = predicate
        self.seen = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def __enter__(self) -> LogWatch:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logging.getLogger().removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if self.predicate(record):
            self._loop.call_soon_threadsafe(self.seen.set)

    async def wait(self, *, timeout: float = 5, what: str = "a matching log record") -> None:
        async with _failing_after(timeout, what):
            await self.seen.wait()


def on_call(obj: Any, name: str) -> asyncio.Event:
    """An event set whenever ``obj.name(...)`` has returned (an async one: once awaited);
    wrapped on this one object, so a test awaits the state change the call makes."""
    original = getattr(obj, name)
    called = asyncio.Event()

    async def finish(result: Any) -> Any:
        value = await result
        called.set()
        return value

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if inspect.isawaitable(result):
            return finish(result)
        called.set()
        return result

    setattr(obj, name, wrapper)
    return called


async def wait_for(event: asyncio.Event, what: str, *, timeout: float = 5) -> None:
    """``event.wait()`` that fails the test, naming ``what``, after ``timeout`` seconds."""
    async with _failing_after(timeout, what):
        await event.wait()


async def claim_rows(app: Chancy, queue: str, worker_id: str, up_to: int = 1) -> list[Any]:
    """Claim as a worker would (the worker's own statement), under ``worker_id`` (which
    may not exist); returns the claimed jobs' full rows in claim order (the claim itself
    returns only what a run needs)."""
    table = app.models.Job.__table__
    params = jobs_sql.fetch_params(queue, up_to, worker_id)
    async with app.engine.begin() as conn:
        ids = [r.id for r in (await conn.execute(jobs_sql.build_fetch(app.models), params))]
        full = (await conn.execute(sa.select(table).where(table.c.id.in_(ids)))).all()
    by_id = {row.id: row for row in full}
    return [by_id[ident] for ident in ids]

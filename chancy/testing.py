"""Helpers for your tests: an isolated, migrated chancy per test, and assertions on pushes.

::

    import pytest
    from chancy.testing import isolated_chancy, assert_pushed

    @pytest.fixture
    async def chancy():
        async with isolated_chancy("postgresql://localhost/test") as app:
            yield app

    async def test_signup_sends_mail(chancy):
        await signup(chancy, "a@example.com")
        await assert_pushed(chancy, func=send_welcome, kwargs={"to": "a@example.com"})

Each :func:`isolated_chancy` gets a fresh random table prefix, so tests can run side by
side in one database, and removes every table of that prefix afterwards.

The assertions read the jobs table. If your test pushes inside a transaction it never
commits (a session rolled back after each test), pass that ``session`` so they read
inside it too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chancy.app import Chancy
from chancy.db.statements import jobs as jobs_sql
from chancy.errors import ConfigurationError
from chancy.job import QueuedJob
from chancy.utils import importable_name

__all__ = ["assert_not_pushed", "assert_pushed", "isolated_chancy", "pushed_jobs", "random_prefix"]

#: Fields of :class:`QueuedJob` a filter may name.
JOB_FIELDS = frozenset(f.name for f in dataclasses.fields(QueuedJob))
#: How many pushed jobs a failure message lists.
SHOWN = 10


def random_prefix(stem: str = "t") -> str:
    """A fresh table prefix such as ``t_1a2b3c4d_``."""
    return f"{stem}_{secrets.token_hex(4)}_"


@contextlib.asynccontextmanager
async def isolated_chancy(
    dsn: Any, *, prefix: str | None = None, migrate: bool = True, **options: Any
) -> AsyncIterator[Chancy]:
    """A :class:`Chancy` on a fresh prefix, migrated, and torn down (all tables) afterwards.

    ``options`` go to the constructor (``plugins``, ``notifications``,
    ``no_default_plugins`` ...). With ``migrate=False`` the tables are not created, but
    whatever the test creates is still removed. Because teardown drops every table of
    the prefix, an explicit ``prefix`` that already has tables is refused rather than
    wiped.
    """
    app = Chancy(dsn, prefix=prefix or random_prefix(), **options)
    try:
        if await app.current_revisions():
            raise ConfigurationError(
                f"Prefix {app.prefix!r} already has chancy tables, and isolated_chancy would "
                "drop them when the test ends. Leave prefix unset for a fresh random one."
            )
    except BaseException:
        await app.__aexit__(None, None, None)
        raise
    try:
        if migrate:
            await app.migrate()
        yield app
    finally:
        try:
            await app.migrate(to_version=0)
        finally:
            await app.__aexit__(None, None, None)


#: A caller's own session or connection to read through (its transaction included).
SessionOrConnection = AsyncSession | AsyncConnection


async def pushed_jobs(
    app: Chancy,
    *,
    func: str | Callable[..., Any] | None = None,
    queue: str | None = None,
    session: SessionOrConnection | None = None,
    **fields: Any,
) -> list[QueuedJob]:
    """Jobs in the app's table matching ``func``, ``queue`` and any other field values.

    ``func`` is an import path or the function itself. ``fields`` name
    :class:`~chancy.job.QueuedJob` fields (``kwargs={...}``, ``state="pending"``,
    ``unique_key=None`` ...) and must equal them. Jobs come back in push order. With
    ``session``, the table is read inside that session's transaction.
    """
    unknown = set(fields) - JOB_FIELDS
    if unknown:
        raise TypeError(
            f"Unknown job field(s) {', '.join(sorted(unknown))}; filter on any of "
            f"{', '.join(sorted(JOB_FIELDS))}."
        )
    path = _func_path(func) if func is not None else None
    stmt = jobs_sql.build_list_jobs(app.models, func=path, queue=queue)
    jobs = [QueuedJob.unpack(row._mapping) for row in await _rows(app, stmt, session)]
    return [j for j in jobs if all(getattr(j, k) == v for k, v in fields.items())]


async def assert_pushed(
    app: Chancy,
    *,
    func: str | Callable[..., Any] | None = None,
    queue: str | None = None,
    count: int | None = None,
    session: SessionOrConnection | None = None,
    **fields: Any,
) -> list[QueuedJob]:
    """Assert at least one (or exactly ``count``) matching job was pushed; return them.

    Filters as :func:`pushed_jobs`. The failure message lists what was pushed, so a job
    pushed with slightly different arguments is easy to spot.
    """
    if count is not None and count < 0:
        raise ValueError(f"count must be 0 or more, got {count}.")
    found = await pushed_jobs(app, func=func, queue=queue, session=session, **fields)
    if (count is None and found) or (count is not None and len(found) == count):
        return found
    wanted = {"func": func and _func_path(func), "queue": queue, **fields}
    described = ", ".join(f"{k}={v!r}" for k, v in wanted.items() if k in fields or v is not None)
    described = described or "anything"
    if count is None:
        problem = f"No job was pushed matching {described}."
    else:
        problem = f"Expected {count} job(s) matching {described}, found {len(found)}."
    everything = await pushed_jobs(app, session=session)
    raise AssertionError(f"{problem}\n{_listing(everything)}")


async def assert_not_pushed(
    app: Chancy,
    *,
    func: str | Callable[..., Any] | None = None,
    queue: str | None = None,
    session: SessionOrConnection | None = None,
    **fields: Any,
) -> None:
    """Assert no job matching the filters (as :func:`pushed_jobs`) was pushed."""
    await assert_pushed(app, func=func, queue=queue, count=0, session=session, **fields)


def _func_path(func: str | Callable[..., Any]) -> str:
    return func if isinstance(func, str) else importable_name(func)


async def _rows(
    app: Chancy, stmt: sa.Select[Any], session: SessionOrConnection | None
) -> list[Any]:
    if session is not None:
        return list((await session.execute(stmt)).all())
    async with app.engine.connect() as conn:
        return list((await conn.execute(stmt)).all())


def _listing(jobs: list[QueuedJob]) -> str:
    if not jobs:
        return "No job was pushed at all."
    lines = [
        f"  {j.func} queue={j.queue!r} kwargs={j.kwargs!r} state={j.state.value!r}"
        for j in jobs[:SHOWN]
    ]
    more = f"\n  ... and {len(jobs) - SHOWN} more" if len(jobs) > SHOWN else ""
    return f"Pushed jobs ({len(jobs)}):\n" + "\n".join(lines) + more

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
        await assert_pushed(chancy, func="app.tasks.send_welcome", kwargs={"to": "a@example.com"})

Each :func:`isolated_chancy` gets a fresh random table prefix, so tests can run side by
side in one database, and removes every table of that prefix afterwards.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa

from chancy.app import Chancy
from chancy.job import QueuedJob

__all__ = ["assert_not_pushed", "assert_pushed", "isolated_chancy", "pushed_jobs", "random_prefix"]


def random_prefix(stem: str = "t") -> str:
    """A fresh table prefix such as ``t_1a2b3c4d_``."""
    return f"{stem}_{secrets.token_hex(4)}_"


@contextlib.asynccontextmanager
async def isolated_chancy(
    dsn: Any, *, prefix: str | None = None, migrate: bool = True, **options: Any
) -> AsyncIterator[Chancy]:
    """A :class:`Chancy` on a fresh prefix, migrated, and torn down (all tables) afterwards.

    ``options`` go to the constructor (``plugins``, ``notifications``,
    ``no_default_plugins`` ...).
    """
    app = Chancy(dsn, prefix=prefix or random_prefix(), **options)
    try:
        if migrate:
            await app.migrate()
        yield app
    finally:
        try:
            await app.migrate(to_version=0)
        finally:
            await app.__aexit__(None, None, None)


async def pushed_jobs(
    app: Chancy, *, func: str | None = None, queue: str | None = None, **fields: Any
) -> list[QueuedJob]:
    """Jobs in the app's table matching ``func``, ``queue`` and any other column values."""
    table = app.models.Job.__table__
    stmt = sa.select(table).order_by(table.c.id)
    if func is not None:
        stmt = stmt.where(table.c.func == func)
    if queue is not None:
        stmt = stmt.where(table.c.queue == queue)
    async with app.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    jobs = [QueuedJob.unpack(row._mapping) for row in rows]
    return [j for j in jobs if all(getattr(j, k) == v for k, v in fields.items())]


async def assert_pushed(
    app: Chancy, *, func: str | None = None, queue: str | None = None, count: int | None = None,
    **fields: Any,
) -> list[QueuedJob]:
    """Assert at least one (or exactly ``count``) matching job was pushed; return them."""
    found = await pushed_jobs(app, func=func, queue=queue, **fields)
    wanted = {"func": func, "queue": queue, **fields}
    described = ", ".join(f"{k}={v!r}" for k, v in wanted.items() if v is not None)
    if count is None and not found:
        raise AssertionError(f"No job was pushed matching {described or 'anything'}.")
    if count is not None and len(found) != count:
        raise AssertionError(
            f"Expected {count} job(s) matching {described or 'anything'}, found {len(found)}."
        )
    return found


async def assert_not_pushed(
    app: Chancy, *, func: str | None = None, queue: str | None = None, **fields: Any
) -> None:
    """Assert no job matching the filters was pushed."""
    await assert_pushed(app, func=func, queue=queue, count=0, **fields)

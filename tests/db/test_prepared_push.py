"""The push hot path: a prepared statement on the driver connection, inside the caller's
transaction; the setting that turns preparing off; and the fallback for other drivers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from chancy import Chancy, Job
from tests.db.helpers import Listener
from tests.helpers import count_jobs

FUNC = "tests.db.test_prepared_push.noop"


def noop() -> None:
    pass


async def prepared_pushes(conn: AsyncConnection | AsyncSession, app: Chancy) -> int:
    """How many of ``conn``'s own server-side prepared statements insert into our jobs."""
    stmt = sa.text(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :pattern"
    ).bindparams(pattern=f"%INSERT INTO {app.prefix}jobs%")
    return (await conn.execute(stmt)).scalar_one()


@pytest.fixture
async def unprepared(chancy: Chancy, dsn: str) -> AsyncIterator[Chancy]:
    """The same prefix with ``prepared_statements=False`` (PgBouncer transaction mode)."""
    app = Chancy(dsn, prefix=chancy.prefix, no_default_plugins=True, prepared_statements=False)
    try:
        yield app
    finally:
        await app.__aexit__(None, None, None)


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_push_ex_on_a_session_is_prepared_and_follows_the_callers_transaction(
    chancy: Chancy, listener: Listener, outcome: str
) -> None:
    async with AsyncSession(chancy.engine) as session:
        refs = [await chancy.push_ex(session, Job(func=FUNC, queue="q")) for _ in range(2)]
        # Run on the session's own connection, as a prepared statement, not yet committed.
        assert await prepared_pushes(session, chancy) == 1
        # A batch is the other prepared statement (arrays; one job is a row of scalars).
        refs += await chancy.push_many_ex(session, [Job(func=FUNC, queue="q")] * 2)
        assert await prepared_pushes(session, chancy) == 2
        assert session.in_transaction()
        assert await count_jobs(chancy) == 0
        await (session.commit() if outcome == "commit" else session.rollback())
    if outcome == "commit":
        assert len(await chancy.get_jobs(refs)) == 4
        assert await listener.pushed_queues() == ["q"]
    else:
        assert await count_jobs(chancy) == 0
        assert await listener.drain() == []


async def test_push_runs_prepared_by_default(chancy: Chancy) -> None:
    for _ in range(3):
        await chancy.push(Job(func=FUNC, queue="q"))
    async with chancy.engine.connect() as conn:  # the pool holds one connection here
        assert await prepared_pushes(conn, chancy) == 1


async def test_prepared_statements_off_prepares_nothing(unprepared: Chancy) -> None:
    # More runs than psycopg's own automatic-prepare threshold (5).
    for _ in range(8):
        await unprepared.push(Job(func=FUNC, queue="q"))
    refs = [r async for batch in unprepared.push_many([Job(func=FUNC)] * 3) for r in batch]
    async with AsyncSession(unprepared.engine) as session:
        for _ in range(8):
            await unprepared.push_ex(session, Job(func=FUNC, queue="q"))
        await session.commit()
    with unprepared:
        unprepared.sync_push(Job(func=FUNC, queue="q"))
    async with unprepared.engine.connect() as conn:
        assert await prepared_pushes(conn, unprepared) == 0
        all_prepared = sa.text("SELECT count(*) FROM pg_prepared_statements")
        assert (await conn.execute(all_prepared)).scalar_one() == 0
    assert len(await unprepared.get_jobs(refs)) == 3
    assert await count_jobs(unprepared) == 8 + 3 + 8 + 1


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_another_driver_falls_back_to_sqlalchemy(
    chancy: Chancy, dsn: str, listener: Listener, outcome: str
) -> None:
    pytest.importorskip("asyncpg")
    engine = create_async_engine(chancy.url.set(drivername="postgresql+asyncpg"))
    app = Chancy(engine, prefix=chancy.prefix, no_default_plugins=True)
    try:
        (pushed,) = [r async for batch in app.push_many([Job(func=FUNC, queue="a")]) for r in batch]
        async with AsyncSession(engine) as session:
            ref = await app.push_ex(session, Job(func=FUNC, queue="b"))
            assert await count_jobs(chancy) == 1
            await (session.commit() if outcome == "commit" else session.rollback())
    finally:
        await engine.dispose()
    assert len(await chancy.get_jobs([pushed])) == 1
    assert len(await chancy.get_jobs([ref])) == (1 if outcome == "commit" else 0)
    expected = ["a", "b"] if outcome == "commit" else ["a"]
    assert sorted(await listener.pushed_queues()) == expected

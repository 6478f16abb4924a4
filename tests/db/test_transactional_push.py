"""Transactional push: jobs commit or roll back with the caller's own session or connection."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from chancy import Chancy, Job
from chancy.errors import ConfigurationError
from tests.db.helpers import Listener
from tests.helpers import count_jobs

FUNC = "tests.db.test_transactional_push.send"


def send(to: str = "") -> None:
    pass


def signup_jobs(email: str) -> list[Job]:
    return [
        Job(func=FUNC, queue="mail", kwargs={"to": email}),
        Job(func=FUNC, queue="mail", kwargs={"to": "admin@example.com"}),
        Job(func=FUNC, queue="reports", kwargs={"to": email}),
    ]


@pytest.fixture
async def users(chancy: Chancy) -> AsyncIterator[sa.Table]:
    """The caller's own table, on a random name, dropped afterwards."""
    table = sa.Table(
        f"users_{secrets.token_hex(4)}",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
    )
    async with chancy.engine.begin() as conn:
        await conn.run_sync(table.create)
    try:
        yield table
    finally:
        async with chancy.engine.begin() as conn:
            await conn.run_sync(table.drop)


async def user_count(app: Chancy, users: sa.Table) -> int:
    async with app.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one()


@contextlib.asynccontextmanager
async def async_engine_for(app: Chancy, which: str) -> AsyncIterator[AsyncEngine]:
    if which == "app":
        yield app.engine
        return
    separate = create_async_engine(app.url)
    try:
        yield separate
    finally:
        await separate.dispose()


@contextlib.contextmanager
def sync_engine_for(app: Chancy, which: str) -> Iterator[sa.Engine]:
    if which == "app":
        yield app.sync_engine
        return
    separate = sa.create_engine(app.url)
    try:
        yield separate
    finally:
        separate.dispose()


@contextlib.asynccontextmanager
async def async_executable(engine: AsyncEngine, kind: str) -> AsyncIterator[Any]:
    if kind == "session":
        async with AsyncSession(engine) as session:
            yield session
    else:
        async with engine.connect() as conn:
            yield conn


@contextlib.contextmanager
def sync_executable(engine: sa.Engine, kind: str) -> Iterator[Any]:
    if kind == "session":
        with Session(engine) as session:
            yield session
    else:
        with engine.connect() as conn:
            yield conn


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
@pytest.mark.parametrize("which", ["app", "separate"])
@pytest.mark.parametrize("kind", ["session", "connection"])
async def test_async(
    chancy: Chancy, users: sa.Table, listener: Listener, kind: str, which: str, outcome: str
) -> None:
    async with async_engine_for(chancy, which) as engine, async_executable(engine, kind) as tx:
        await tx.execute(users.insert().values(email="a@example.com"))
        refs = await chancy.push_many_ex(tx, signup_jobs("a@example.com"))
        one = await chancy.push_ex(tx, Job(func=FUNC, queue="mail", kwargs={"to": "b"}))
        # Only statements were executed: the caller's transaction is still open...
        assert tx.in_transaction()
        # ...and nothing is visible to anybody else yet.
        assert await count_jobs(chancy) == 0
        await (tx.commit() if outcome == "commit" else tx.rollback())
    if outcome == "commit":
        assert await user_count(chancy, users) == 1
        assert await count_jobs(chancy) == 4
        assert len(await chancy.get_jobs([*refs, one])) == 4
        # One queue.pushed per distinct queue: identical payloads of one transaction
        # are folded by Postgres, so push_ex's extra "mail" adds nothing.
        assert sorted(await listener.pushed_queues()) == ["mail", "reports"]
    else:
        assert await user_count(chancy, users) == 0
        assert await count_jobs(chancy) == 0
        assert await listener.drain() == []


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
@pytest.mark.parametrize("which", ["app", "separate"])
@pytest.mark.parametrize("kind", ["session", "connection"])
async def test_sync(
    chancy: Chancy, users: sa.Table, listener: Listener, kind: str, which: str, outcome: str
) -> None:
    with chancy, sync_engine_for(chancy, which) as engine, sync_executable(engine, kind) as tx:
        tx.execute(users.insert().values(email="a@example.com"))
        refs = chancy.sync_push_many_ex(tx, signup_jobs("a@example.com"))
        one = chancy.sync_push_ex(tx, Job(func=FUNC, queue="other"))
        assert tx.in_transaction()
        assert await count_jobs(chancy) == 0
        tx.commit() if outcome == "commit" else tx.rollback()
    if outcome == "commit":
        assert await user_count(chancy, users) == 1
        assert len(await chancy.get_jobs([*refs, one])) == 4
        assert sorted(await listener.pushed_queues()) == ["mail", "other", "reports"]
    else:
        assert await user_count(chancy, users) == 0
        assert await count_jobs(chancy) == 0
        assert await listener.drain() == []


@pytest.mark.parametrize("kind", ["session", "connection"])
async def test_async_savepoint_rollback_discards_only_its_jobs(
    chancy: Chancy, users: sa.Table, listener: Listener, kind: str
) -> None:
    async with async_executable(chancy.engine, kind) as tx:
        await tx.execute(users.insert().values(email="a@example.com"))
        (kept,) = await chancy.push_many_ex(tx, [Job(func=FUNC, queue="outer")])
        savepoint = await tx.begin_nested()
        await tx.execute(users.insert().values(email="b@example.com"))
        await chancy.push_many_ex(tx, [Job(func=FUNC, queue="inner")] * 2)
        await savepoint.rollback()
        assert tx.in_transaction()
        await tx.commit()
    assert await user_count(chancy, users) == 1
    assert [j.id for j in await chancy.get_jobs([kept])] == [kept.identifier]
    assert await count_jobs(chancy) == 1
    # The savepoint's NOTIFY was rolled back with it.
    assert await listener.pushed_queues() == ["outer"]


async def test_sync_savepoint_rollback_discards_only_its_jobs(
    chancy: Chancy, listener: Listener
) -> None:
    with chancy, Session(chancy.sync_engine) as session:
        chancy.sync_push_many_ex(session, [Job(func=FUNC, queue="outer")])
        with session.begin_nested() as savepoint:
            chancy.sync_push_many_ex(session, [Job(func=FUNC, queue="inner")])
            savepoint.rollback()
        session.commit()
    assert await count_jobs(chancy, queue="outer") == 1
    assert await count_jobs(chancy) == 1
    assert await listener.pushed_queues() == ["outer"]


async def test_bad_job_leaves_the_callers_transaction_usable(
    chancy: Chancy, users: sa.Table, listener: Listener
) -> None:
    async with AsyncSession(chancy.engine) as session:
        await session.execute(users.insert().values(email="a@example.com"))
        with pytest.raises(ConfigurationError, match="kwargs"):
            await chancy.push_many_ex(
                session, [Job(func=FUNC), Job(func=FUNC, kwargs={"when": object()})]
            )
        assert session.in_transaction()
        await session.commit()
    assert await user_count(chancy, users) == 1
    assert await count_jobs(chancy) == 0
    assert await listener.drain() == []


async def test_orm_session_with_pending_objects(chancy: Chancy, users: sa.Table) -> None:
    """Jobs pushed after ``session.add`` commit together with the flushed object."""

    class Base(sa.orm.DeclarativeBase):
        pass

    class User(Base):
        __table__ = users

    async with AsyncSession(chancy.engine) as session:
        session.add(User(email="orm@example.com"))
        await session.flush()
        await chancy.push_ex(session, Job(func=FUNC, kwargs={"to": "orm@example.com"}))
        await session.commit()
    assert await user_count(chancy, users) == 1
    assert await count_jobs(chancy) == 1

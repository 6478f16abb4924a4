"""Upstream-style code: ``chancy.pool.connection()`` gives a psycopg connection, and the
``*_ex`` methods take psycopg connections and cursors, inside the caller's transaction."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from chancy import Chancy, Job, Queue
from chancy.plugins.trigger import Trigger
from chancy.plugins.workflow import Workflow, WorkflowPlugin
from tests.db.helpers import Listener
from tests.helpers import count_jobs
from tests.prefix_pool import pooled_chancy

FUNC = "tests.db.test_psycopg_connections.work"


def work() -> None:
    pass


def jobs(n: int = 2, queue: str = "mail") -> list[Job]:
    return [Job(func=FUNC, queue=queue, kwargs={"i": i}) for i in range(n)]


async def test_pool_connection_is_psycopg_and_commits_on_exit(
    chancy: Chancy, listener: Listener
) -> None:
    async with chancy.pool.connection() as conn:
        assert isinstance(conn, psycopg.AsyncConnection)
        ref = await chancy.push_ex(conn, Job(func=FUNC, queue="mail"))
        refs = await chancy.push_many_ex(conn, jobs())
        assert len(refs) == 2
        assert await count_jobs(chancy) == 0  # not committed yet: the caller's transaction
    assert await count_jobs(chancy) == 3
    assert (await chancy.get_job(ref)) is not None
    notes = await listener.drain()
    assert {n["t"] for n in notes} == {"queue.pushed"}  # delivered on commit


async def test_pool_connection_rolls_back_when_the_block_raises(
    chancy: Chancy, listener: Listener
) -> None:
    with pytest.raises(RuntimeError):
        async with chancy.pool.connection() as conn:
            await chancy.push_many_ex(conn, jobs())
            raise RuntimeError("the caller's own work failed")
    assert await count_jobs(chancy) == 0
    assert await listener.drain() == []


async def test_a_psycopg_connection_of_your_own_commits_and_rolls_back_with_you(
    chancy: Chancy,
) -> None:
    async with await psycopg.AsyncConnection.connect(chancy.dsn) as conn:
        await chancy.push_many_ex(conn, jobs(3))
        await conn.rollback()
        assert await count_jobs(chancy) == 0
        await chancy.push_many_ex(conn, jobs(2))
        await conn.commit()
    assert await count_jobs(chancy) == 2


async def test_a_psycopg_cursor_works_and_is_never_committed_by_chancy(chancy: Chancy) -> None:
    async with await psycopg.AsyncConnection.connect(chancy.dsn) as conn:
        async with conn.cursor() as cur:
            await chancy.push_ex(cur, Job(func=FUNC))
            stored = await chancy.declare_ex(cur, Queue("mail"))
            assert stored.name == "mail" and stored.state == Queue.State.ACTIVE
            await chancy.notify(cur, "custom", {"x": 1})
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        await conn.rollback()
    assert await count_jobs(chancy) == 0
    assert await chancy.get_all_queues() == []


async def test_every_async_ex_method_takes_a_psycopg_connection(chancy: Chancy) -> None:
    await chancy.declare(Queue("mail"))
    async with chancy.pool.connection() as conn:
        refs = await chancy.push_many_ex(conn, jobs(3))
        assert await chancy.cancel_job_ex(conn, refs[0]) == 1
        assert await chancy.retry_jobs_ex(conn, [refs[0]]) == {"mail"}
        assert await chancy.purge_jobs_ex(conn, [refs[1]]) == 1
        assert await chancy.pause_queue_ex(conn, "mail") == 1
        assert await chancy.resume_queue_ex(conn, "mail") == 1
        await chancy.notify_many(conn, [("a", {}), ("b", {})])
    assert await count_jobs(chancy) == 2
    async with chancy.pool.connection() as conn:
        assert await chancy.delete_queue_ex(conn, "mail", purge_jobs=True) == 1
    assert await count_jobs(chancy) == 0


async def test_the_pool_is_the_engines_pool(chancy: Chancy) -> None:
    async with chancy.pool.connection():
        assert chancy.pool.engine_pool.checkedout() == 1
    assert chancy.pool.engine_pool.checkedout() == 0


def test_sync_twins_take_psycopg_connections_and_cursors(chancy: Chancy) -> None:
    with chancy.sync_pool.connection() as conn:
        assert isinstance(conn, psycopg.Connection)
        chancy.sync_push_ex(conn, Job(func=FUNC))
        chancy.sync_push_many_ex(conn, jobs(2))
        chancy.sync_declare_ex(conn, Queue("mail"))
    with pytest.raises(RuntimeError):
        with chancy.sync_pool.connection() as conn:
            chancy.sync_push_ex(conn, Job(func=FUNC))
            raise RuntimeError("rolled back")
    with psycopg.Connection.connect(chancy.dsn) as own:
        with own.cursor() as cur:
            chancy.sync_push_many_ex(cur, jobs(4))
            chancy.sync_notify(cur, "custom", {"x": 1})
        own.rollback()
    assert asyncio.run(_count(chancy)) == 3


async def _count(chancy: Chancy) -> int:
    try:
        return await count_jobs(chancy)
    finally:
        await chancy.engine.dispose()  # the engine was bound to asyncio.run's loop


async def test_mixing_sync_and_async_kinds_is_refused_clearly(chancy: Chancy) -> None:
    with psycopg.Connection.connect(chancy.dsn) as own:
        with pytest.raises(TypeError, match="sync_\\* twin"):
            await chancy.push_ex(own, Job(func=FUNC))
    async with await psycopg.AsyncConnection.connect(chancy.dsn) as conn:
        with pytest.raises(TypeError, match="async method"):
            chancy.sync_push_ex(conn, Job(func=FUNC))


async def test_plugin_ex_methods_take_a_psycopg_connection(dsn: str) -> None:
    plugins = [WorkflowPlugin(), Trigger()]
    async with pooled_chancy(dsn, plugins=plugins, no_default_plugins=True) as app:
        workflow = Workflow("w").add("a", Job(func=FUNC)).add("b", Job(func=FUNC), ["a"])
        async with app.pool.connection() as conn:
            ident = await WorkflowPlugin.push_ex(conn, app, workflow)
            assert await Trigger.get_triggers_ex(app, conn) == {}
            assert await Trigger.enable_trigger_ex(app, conn, uuid.uuid4()) is False
        stored = await WorkflowPlugin.get_workflow(app, ident)
        assert stored is not None and set(stored.steps) == {"a", "b"}
        assert await count_jobs(app) == 1  # step a is pushed; b waits for it

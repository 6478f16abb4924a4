"""Jobs pushed to a queue nobody declared (TkTech/chancy#69): refused with
``strict_queues``, otherwise reported once by the leader."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from chancy import Chancy, Job, Queue
from chancy.errors import ConfigurationError
from chancy.plugins.leadership import ImmediateLeadership
from chancy.worker import Worker
from tests.helpers import count_jobs
from tests.prefix_pool import pooled_chancy

FUNC = "tests.db.test_undeclared_queues.work"


def work() -> None:
    pass


@pytest.fixture
async def strict(dsn: str) -> AsyncIterator[Chancy]:
    async with pooled_chancy(dsn, no_default_plugins=True, strict_queues=True) as app:
        yield app


async def test_strict_mode_refuses_a_push_to_an_undeclared_queue(strict: Chancy) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await strict.push(Job(func=FUNC, queue="ghost"))
    message = str(caught.value)
    assert "'ghost' has not been declared" in message and "declare" in message
    await strict.declare(Queue("real"))
    with pytest.raises(ConfigurationError, match="'ghost'"):
        async for _ in strict.push_many(
            [Job(func=FUNC, queue="real"), Job(func=FUNC, queue="ghost")]
        ):
            pass
    assert await count_jobs(strict) == 0
    assert await strict.push(Job(func=FUNC, queue="real"))
    assert await count_jobs(strict) == 1


async def test_strict_mode_sees_a_queue_declared_in_the_same_transaction(strict: Chancy) -> None:
    async with strict.engine.begin() as conn:
        await strict.declare_ex(conn, Queue("fresh"))
        await strict.push_ex(conn, Job(func=FUNC, queue="fresh"))
    assert await count_jobs(strict, queue="fresh") == 1
    with pytest.raises(ConfigurationError, match="'ghost'"):
        strict.sync_push(Job(func=FUNC, queue="ghost"))
    strict.sync_engine.dispose()


async def test_without_strict_mode_the_push_succeeds_as_upstream(chancy: Chancy) -> None:
    assert not chancy.strict_queues
    await chancy.push(Job(func=FUNC, queue="ghost"))
    assert await count_jobs(chancy, queue="ghost") == 1


async def test_the_leader_warns_once_per_undeclared_queue_with_waiting_jobs(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = [ImmediateLeadership()]
    async with pooled_chancy(dsn, plugins=plugins, no_default_plugins=True) as app:
        await app.declare(Queue("real", executor=Chancy.Executor.Async))
        await app.push(Job(func=FUNC, queue="ghost"))
        await app.push(Job(func=FUNC, queue="ghost"))
        done = await app.push(Job(func=FUNC, queue="finished"))
        await app.cancel_job(done)  # an undeclared queue with no waiting job: not reported
        await app.push(Job(func=FUNC, queue="real"))
        warned = asyncio.Event()

        class Seen(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if "'ghost' holds pending jobs" in record.getMessage():
                    warned.set()

        seen = Seen()
        app.log.addHandler(seen)
        try:
            with caplog.at_level(logging.WARNING, logger=app.log.name):
                worker = Worker(app, register_signal_handlers=False, queues=["real"])
                async with worker:
                    await asyncio.wait_for(warned.wait(), 10)  # the loop's first check
                    assert await worker.undeclared.check() == []  # already reported
                    assert worker.undeclared.warned == {"ghost"}
        finally:
            app.log.removeHandler(seen)
        ghost = [r for r in caplog.records if "'ghost'" in r.getMessage()]
        assert len(ghost) == 1
        assert "declare" in ghost[0].getMessage() and "strict_queues" in ghost[0].getMessage()
        assert not any("'finished'" in r.getMessage() for r in caplog.records)

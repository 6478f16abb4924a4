"""A pooled connection the server closed is replaced on checkout, without the round trip
of a pre-ping on every checkout (chancy.db.engine.ping_when_stale): a push never fails
or goes out twice because of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import chancy.db.engine as engines
from chancy import Chancy, Job
from tests.helpers import count_jobs

FUNC = "tests.db.test_stale_connections.noop"


def noop() -> None:
    pass


@pytest.fixture
def pings(chancy: Chancy, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the dialect's pings on both of the app's engines (one entry per ping)."""
    seen: list[int] = []
    for engine in (chancy.engine.sync_engine, chancy.sync_engine):
        original = engine.dialect.do_ping

        def counting(dbapi_connection: Any, original: Any = original) -> bool:
            seen.append(1)
            return original(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counting)
    yield seen


def terminate(dsn: str, pids: set[int]) -> None:
    """Terminate these backends and wait until they are gone (their goodbye is sent)."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


async def pooled_pids(chancy: Chancy) -> set[int]:
    async with chancy.pool.connection() as conn:
        return {conn.info.backend_pid}


async def test_a_push_on_a_terminated_connection_succeeds_once(
    chancy: Chancy, dsn: str, pings: list[int]
) -> None:
    await chancy.push(Job(func=FUNC))
    await chancy.push(Job(func=FUNC))
    assert pings == []  # a healthy connection used a moment ago: no round trip
    before = await pooled_pids(chancy)  # the pool holds this one connection
    terminate(dsn, before)
    ref = await chancy.push(Job(func=FUNC))
    assert pings == [1]  # the closed socket asked for a ping, which failed
    assert await pooled_pids(chancy) != before  # replaced
    assert len(await chancy.get_jobs([ref])) == 1
    assert await count_jobs(chancy) == 3


async def test_push_ex_in_a_session_on_a_terminated_connection(chancy: Chancy, dsn: str) -> None:
    await chancy.push(Job(func=FUNC))
    terminate(dsn, await pooled_pids(chancy))
    async with AsyncSession(chancy.engine) as session:
        ref = await chancy.push_ex(session, Job(func=FUNC))
        await session.commit()
    assert len(await chancy.get_jobs([ref])) == 1
    assert await count_jobs(chancy) == 2


def test_sync_push_on_a_terminated_connection(chancy: Chancy, dsn: str) -> None:
    with chancy:
        chancy.sync_push(Job(func=FUNC))
        with chancy.sync_pool.connection() as conn:
            pid = conn.info.backend_pid
        terminate(dsn, {pid})
        chancy.sync_push(Job(func=FUNC))
        with chancy.sync_pool.connection() as conn:
            assert conn.info.backend_pid != pid
    assert sync_count_jobs(chancy) == 2


def sync_count_jobs(chancy: Chancy) -> int:
    with psycopg.connect(chancy.dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM {chancy.prefix}jobs").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_connection_idle_for_long_is_pinged(
    chancy: Chancy, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await chancy.push(Job(func=FUNC))
    assert pings == []
    monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0.0)
    await chancy.push(Job(func=FUNC))
    assert pings == [1]  # alive: kept, and the push went out on it
    assert await count_jobs(chancy) == 2

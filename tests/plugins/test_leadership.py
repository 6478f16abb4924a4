"""Leader election: one leader among many workers, fast hand-over, no stolen renewals."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.plugins.leadership import ImmediateLeadership, Leadership
from chancy.plugins.leadership import statements as leader_sql
from chancy.worker import Worker
from tests.plugins.helpers import started
from tests.prefix_pool import pooled_chancy


@contextlib.asynccontextmanager
async def cluster(
    dsn: str, count: int, **options: float
) -> AsyncIterator[tuple[Chancy, list[Chancy]]]:
    """``count`` apps on one fresh prefix, each with its own Leadership (like processes)."""
    async with pooled_chancy(
        dsn, plugins=[Leadership(**options)], no_default_plugins=True
    ) as first:
        others = [
            Chancy(
                dsn, prefix=first.prefix, plugins=[Leadership(**options)], no_default_plugins=True
            )
            for _ in range(count - 1)
        ]
        try:
            yield first, [first, *others]
        finally:
            for app in others:
                await app.__aexit__(None, None, None)


async def lease(app: Chancy) -> sa.Row | None:
    t = app.models.Leader.__table__
    async with app.engine.connect() as conn:
        return (await conn.execute(sa.select(t))).first()


async def wait_for_leaders(workers: list[Worker], timeout: float) -> list[Worker]:
    """Wait until some worker leads; return every worker that does."""
    waiters = [asyncio.ensure_future(w.is_leader.wait()) for w in workers]
    try:
        async with asyncio.timeout(timeout):
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return [w for w in workers if w.is_leader.is_set()]


def test_timeout_must_cover_the_poll_interval() -> None:
    with pytest.raises(ValueError, match="at least poll_interval"):
        Leadership(poll_interval=10, timeout=5)
    assert Leadership().poll_interval == 60
    assert Leadership().timeout == 120
    assert (
        Leadership.get_identifier() == ImmediateLeadership.get_identifier() == "chancy.leadership"
    )


async def test_immediate_leadership_leads_at_start(dsn: str) -> None:
    async with (
        pooled_chancy(dsn, plugins=[ImmediateLeadership()], no_default_plugins=True) as app,
        started(app) as worker,
    ):
        assert worker.is_leader.is_set()
    assert not worker.is_leader.is_set()


async def test_first_election_happens_at_start_not_after_a_poll(dsn: str) -> None:
    # A 30 s interval: the only way to lead within 3 s is to try at once.
    async with pooled_chancy(
        dsn, plugins=[Leadership(poll_interval=30, timeout=60)], no_default_plugins=True
    ) as app:
        async with started(app) as worker:
            gained = asyncio.ensure_future(worker.hub.wait_for("leadership.gained", timeout=3))
            assert await wait_for_leaders([worker], timeout=3) == [worker]
            events = await gained
            assert events and events[0].body == {"worker_id": worker.worker_id}
            row = await lease(app)
            assert row is not None and row.worker_id == worker.worker_id
        # A clean stop hands the lease back.
        assert await lease(app) is None


async def test_exactly_one_leader_among_many(dsn: str) -> None:
    async with cluster(dsn, 3, poll_interval=0.2, timeout=3) as (_, apps):
        async with contextlib.AsyncExitStack() as stack:
            workers = [await stack.enter_async_context(started(app)) for app in apps]
            await wait_for_leaders(workers, timeout=3)
            leader = next(w for w in workers if w.is_leader.is_set())
            # Over several renewals (the lease is renewed 5 times a second), nobody else
            # ever believes it leads, and the lease stays with the same worker.
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                assert [w for w in workers if w.is_leader.is_set()] == [leader]
                row = await lease(apps[0])
                assert row is not None and row.worker_id == leader.worker_id
                await asyncio.sleep(0.1)


async def test_a_stopping_leader_hands_over_at_once(dsn: str) -> None:
    # Polls every 10 s, lease 30 s: a follower that leads within 3 s of the leader's
    # stop was woken by the release notification, not by a poll or an expiry.
    async with cluster(dsn, 2, poll_interval=10, timeout=30) as (_, apps):
        async with started(apps[0]) as first:
            await wait_for_leaders([first], timeout=3)
            second_stack = contextlib.AsyncExitStack()
            second = await second_stack.enter_async_context(started(apps[1]))
            try:
                # The follower's first attempt at start fails: the lease is taken.
                await asyncio.sleep(0.3)
                assert not second.is_leader.is_set()
                await first.stop()
                stopped = time.monotonic()
                assert await wait_for_leaders([second], timeout=3) == [second]
                assert time.monotonic() - stopped < 3
                row = await lease(apps[1])
                assert row is not None and row.worker_id == second.worker_id
            finally:
                await second_stack.aclose()


async def test_a_dead_leader_is_replaced_when_its_lease_expires(dsn: str) -> None:
    async with pooled_chancy(
        dsn, plugins=[Leadership(poll_interval=0.2, timeout=0.5)], no_default_plugins=True
    ) as app:
        # A leader that died without releasing: its lease runs out in 1.5 s (DB clock).
        t = app.models.Leader.__table__
        async with app.engine.begin() as conn:
            await conn.execute(
                sa.insert(t).values(
                    id=1,
                    worker_id="dead-worker",
                    expires_at=sa.func.now() + dt.timedelta(seconds=1.5),
                )
            )
        async with started(app) as worker:
            await asyncio.sleep(0.6)
            assert not worker.is_leader.is_set(), "took a lease that had not expired"
            assert await wait_for_leaders([worker], timeout=4) == [worker]
            row = await lease(app)
            assert row is not None and row.worker_id == worker.worker_id


async def test_a_worker_cannot_renew_someone_elses_lease(chancy: Chancy) -> None:
    models = chancy.models
    async with chancy.engine.begin() as conn:
        owner = (await conn.execute(leader_sql.build_acquire(models, "owner", 60))).first()
    assert owner is not None
    async with chancy.engine.begin() as conn:
        stolen = (await conn.execute(leader_sql.build_acquire(models, "intruder", 3600))).first()
    assert stolen is None
    row = await lease(chancy)
    assert row is not None and row.worker_id == "owner" and row.expires_at == owner.expires_at

    # The plugin too: a worker that still believes it leads finds out it does not, and
    # leaves the real leader's lease untouched (upstream 0.25 extended it).
    deposed = Worker(chancy, worker_id="intruder", register_signal_handlers=False)
    deposed.is_leader.set()
    assert await Leadership(poll_interval=1, timeout=2).poll(deposed, chancy) is False
    assert not deposed.is_leader.is_set()
    row = await lease(chancy)
    assert row is not None and row.worker_id == "owner" and row.expires_at == owner.expires_at


async def test_the_owner_renews_and_expiry_uses_the_database_clock(chancy: Chancy) -> None:
    plugin = Leadership(poll_interval=1, timeout=30)
    worker = Worker(chancy, worker_id="w1", register_signal_handlers=False)
    assert await plugin.poll(worker, chancy) is True
    first = await lease(chancy)
    assert await plugin.poll(worker, chancy) is True
    renewed = await lease(chancy)
    assert first is not None and renewed is not None
    assert renewed.expires_at > first.expires_at
    assert renewed.first_seen == first.first_seen

    # Expired by the database's clock (whatever this process's clock says): taken over.
    t = chancy.models.Leader.__table__
    async with chancy.engine.begin() as conn:
        await conn.execute(sa.update(t).values(expires_at=sa.func.now() - dt.timedelta(seconds=1)))
    other = Worker(chancy, worker_id="w2", register_signal_handlers=False)
    assert await plugin.poll(other, chancy) is True
    assert await plugin.poll(worker, chancy) is False
    assert not worker.is_leader.is_set() and other.is_leader.is_set()

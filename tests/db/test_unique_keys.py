"""Unique keys: at most one pending, running or retrying job per key."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chancy import Chancy, Job, Reference
from tests.db.helpers import IN_TX
from tests.helpers import count_jobs, job_row, poll_until, set_state
from tests.prefix_pool import pooled_chancy

FUNC = "tests.db.test_unique_keys.work"


def work(v: int = 0) -> int:
    return v


def keyed(key: str, v: int = 0, **fields: Any) -> Job:
    return Job(func=FUNC, unique_key=key, kwargs={"v": v}, **fields)


@IN_TX
@pytest.mark.parametrize("state", ["pending", "running", "retrying"])
async def test_duplicate_returns_the_existing_job_and_changes_nothing(
    shared_chancy: Chancy, tx: AsyncSession, state: str
) -> None:
    app = shared_chancy
    first = await app.push_ex(tx, keyed("k", 1))
    await set_state(app, first, state, via=tx)
    before = await job_row(app, first, via=tx)
    again = await app.push_ex(tx, keyed("k", 2, priority=9, queue="other"))
    assert again == first
    assert await job_row(app, first, via=tx) == before
    assert await count_jobs(app, via=tx) == 1


@IN_TX
@pytest.mark.parametrize("state", ["succeeded", "failed"])
async def test_finished_job_frees_the_key(
    shared_chancy: Chancy, tx: AsyncSession, state: str
) -> None:
    app = shared_chancy
    first = await app.push_ex(tx, keyed("k", 1))
    await set_state(app, first, state, via=tx)
    second = await app.push_ex(tx, keyed("k", 2))
    assert second != first
    assert await count_jobs(app, unique_key="k", via=tx) == 2
    assert (await job_row(app, second, via=tx))["kwargs"] == {"v": 2}
    # The new job holds the key now.
    assert await app.push_ex(tx, keyed("k", 3)) == second


async def test_sync_push_duplicate(chancy: Chancy) -> None:
    with chancy:
        first = chancy.sync_push(keyed("k"))
        assert chancy.sync_push(keyed("k", 5)) == first
    assert await count_jobs(chancy) == 1


@IN_TX
async def test_duplicates_inside_one_batch(shared_chancy: Chancy, tx: AsyncSession) -> None:
    app = shared_chancy
    existing = await app.push_ex(tx, keyed("old"))
    jobs = [keyed("a", 0), Job(func=FUNC), keyed("old", 1), keyed("a", 2), Job(func=FUNC)]
    refs = await app.push_many_ex(tx, jobs)
    assert len(refs) == 5
    assert refs[0] == refs[3]
    assert refs[2] == existing
    assert len({refs[0], refs[1], refs[4], existing}) == 4
    assert await count_jobs(app, via=tx) == 4
    # The first job with a key wins; later ones in the batch are dropped, not merged.
    assert (await job_row(app, refs[0], via=tx))["kwargs"] == {"v": 0}


async def test_duplicates_across_batches(chancy: Chancy) -> None:
    batches = [r async for r in chancy.push_many([keyed("x", i) for i in range(5)], batch_size=2)]
    flat = [ref for batch in batches for ref in batch]
    assert len(set(flat)) == 1
    assert await count_jobs(chancy) == 1


async def test_keys_do_not_leak_between_prefixes(chancy: Chancy, dsn: str) -> None:
    ref = await chancy.push(keyed("shared"))
    async with pooled_chancy(dsn, no_default_plugins=True) as other:
        assert await other.push(keyed("shared")) != ref
        assert await count_jobs(other) == 1


async def _backend_pid(conn: AsyncConnection) -> int:
    return (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()


async def _wait_until_blocked(app: Chancy, pid: int) -> None:
    """Until backend ``pid`` waits on a lock held by another session (polled: Postgres
    announces no lock wait)."""
    stmt = sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
    async with app.engine.connect() as probe:

        async def waiting() -> bool:
            event = (await probe.execute(stmt, {"pid": pid})).scalar_one_or_none()
            await probe.rollback()  # a fresh snapshot of pg_stat_activity next time
            return event == "Lock"

        await poll_until(waiting, what=f"backend {pid} to wait on a lock", timeout=10)


async def test_overlapping_batches_in_opposite_order_do_not_deadlock(chancy: Chancy) -> None:
    """Upstream #89: rows are inserted in key order, so two batches queue up, not deadlock.

    Transaction A holds key "a". Transaction B pushes ["b", "a"]: in key order it blocks
    on "a" before touching "b". A then pushes "b" without waiting and commits, and B
    resolves both keys to A's jobs. Inserted in input order instead, B would hold "b"
    while waiting for "a", and A's push of "b" would deadlock.
    """
    engine = chancy.engine
    async with engine.connect() as a, engine.connect() as b:
        await a.begin()
        (ref_a,) = await chancy.push_many_ex(a, [keyed("a")])
        await b.begin()
        pid_b = await _backend_pid(b)
        pushing = asyncio.ensure_future(chancy.push_many_ex(b, [keyed("b"), keyed("a")]))
        # B's statement runs on B's connection; watch it from a third one.
        blocked = asyncio.ensure_future(_wait_until_blocked(chancy, pid_b))
        done, _ = await asyncio.wait({pushing, blocked}, return_when=asyncio.FIRST_COMPLETED)
        assert blocked in done and not pushing.done()
        (ref_b,) = await asyncio.wait_for(chancy.push_many_ex(a, [keyed("b")]), 10)
        await a.commit()
        refs: list[Reference] = await asyncio.wait_for(pushing, 10)
        await b.commit()
    assert refs == [ref_b, ref_a]
    assert await count_jobs(chancy) == 2

"""The queue and job administration API: declare, read, pause, delete; get, wait, cancel,
retry and purge jobs; notifications; and the engines an app accepts."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from chancy import Chancy, Job, Queue, QueuedJob, Reference
from chancy.db.statements import jobs as jobs_sql
from tests.db.helpers import Listener
from tests.helpers import count_jobs, set_state

FUNC = "tests.db.test_queues_jobs_api.work"


def work() -> None:
    pass


FULL = Queue(
    "full",
    concurrency=4,
    tags={"gpu", "eu-.*"},
    executor=Chancy.Executor.Threaded,
    executor_options={"max_workers": 4},
    polling_interval=2,
    rate_limit=10,
    rate_limit_window=60,
    eager_polling=True,
)


async def test_declare_returns_the_stored_queue(chancy: Chancy, listener: Listener) -> None:
    stored = await chancy.declare(FULL)
    assert stored == FULL
    assert isinstance(stored.state, Queue.State) and stored.state is Queue.State.ACTIVE
    assert await chancy.get_queue("full") == FULL
    assert await listener.drain() == [{"t": "queue.declared", "q": "full"}]


async def test_declare_without_upsert_keeps_the_existing_queue(chancy: Chancy) -> None:
    await chancy.declare(FULL)
    changed = Queue("full", concurrency=1, tags={"other"})
    assert await chancy.declare(changed) == FULL
    assert await chancy.get_queue("full") == FULL


async def test_declare_with_upsert_overwrites(chancy: Chancy) -> None:
    await chancy.declare(FULL)
    changed = Queue("full", concurrency=1, tags={"other"}, state=Queue.State.PAUSED)
    assert await chancy.declare(changed, upsert=True) == changed
    assert await chancy.get_queue("full") == changed


async def test_sync_declare(chancy: Chancy) -> None:
    with chancy:
        assert chancy.sync_declare(FULL) == FULL
        assert chancy.sync_declare(Queue("full"), upsert=False) == FULL
        assert chancy.sync_declare(Queue("full"), upsert=True) == Queue("full")
    assert await chancy.get_queue("full") == Queue("full")


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_declare_ex_joins_the_callers_transaction(
    chancy: Chancy, listener: Listener, outcome: str
) -> None:
    async with AsyncSession(chancy.engine) as session:
        assert await chancy.declare_ex(session, FULL) == FULL
        assert session.in_transaction()
        await (session.commit() if outcome == "commit" else session.rollback())
    assert await chancy.get_all_queues() == ([FULL] if outcome == "commit" else [])
    assert await listener.drain() == []  # declare_ex leaves notifying to the caller
    with chancy, Session(chancy.sync_engine) as sync_session:
        stored = chancy.sync_declare_ex(sync_session, Queue("full"), upsert=True)
        assert stored == Queue("full") and sync_session.in_transaction()
        sync_session.rollback()
    assert await chancy.get_all_queues() == ([FULL] if outcome == "commit" else [])


async def test_paused_queue_round_trips_resume_at(chancy: Chancy) -> None:
    paused = Queue("p", state=Queue.State.PAUSED, resume_at=dt.datetime.min.replace(tzinfo=dt.UTC))
    await chancy.declare(paused)
    assert await chancy.get_queue("p") == paused
    await chancy.resume_queue("p")
    resumed = await chancy.get_queue("p")
    assert resumed.state is Queue.State.ACTIVE and resumed.resume_at is None


async def test_get_queue_missing(chancy: Chancy) -> None:
    with pytest.raises(KeyError, match="Queue 'nope' not found"):
        await chancy.get_queue("nope")


async def test_get_all_queues(chancy: Chancy) -> None:
    assert await chancy.get_all_queues() == []
    low, high = Queue("low", concurrency=1), Queue("high", concurrency=1)
    await chancy.declare(low)
    await chancy.declare(high)
    assert await chancy.get_all_queues() == [high, low]


@pytest.mark.parametrize("purge", [True, False])
async def test_delete_queue(chancy: Chancy, listener: Listener, purge: bool) -> None:
    await chancy.declare(Queue("gone"))
    await chancy.declare(Queue("stays"))
    await chancy.push(Job(func=FUNC, queue="gone"))
    await chancy.push(Job(func=FUNC, queue="stays"))
    await listener.drain()
    assert await chancy.delete_queue("gone", purge_jobs=purge) == 1
    assert [q.name for q in await chancy.get_all_queues()] == ["stays"]
    assert await count_jobs(chancy, queue="gone") == (0 if purge else 1)
    assert await count_jobs(chancy, queue="stays") == 1
    assert await listener.drain() == [{"t": "queue.deleted", "q": "gone"}]
    assert await chancy.delete_queue("gone") == 0


async def test_delete_queue_purges_by_default(chancy: Chancy) -> None:
    await chancy.declare(Queue("gone"))
    await chancy.push(Job(func=FUNC, queue="gone"))
    await chancy.delete_queue("gone")
    assert await count_jobs(chancy) == 0


async def test_pause_with_a_timedelta_and_resume(chancy: Chancy, listener: Listener) -> None:
    await chancy.declare(Queue("q"))
    await listener.drain()
    before = dt.datetime.now(dt.UTC)
    assert await chancy.pause_queue("q", resume_at=dt.timedelta(minutes=5)) == 1
    after = dt.datetime.now(dt.UTC)
    paused = await chancy.get_queue("q")
    assert paused.state is Queue.State.PAUSED
    assert paused.resume_at is not None
    assert before + dt.timedelta(minutes=5) <= paused.resume_at <= after + dt.timedelta(minutes=5)
    assert await chancy.resume_queue("q") == 1
    resumed = await chancy.get_queue("q")
    assert (resumed.state, resumed.resume_at) == (Queue.State.ACTIVE, None)
    assert await listener.drain() == [
        {"t": "queue.paused", "q": "q"},
        {"t": "queue.resumed", "q": "q"},
    ]


async def test_pause_until_a_datetime_and_forever(chancy: Chancy) -> None:
    await chancy.declare(Queue("q"))
    when = dt.datetime(2031, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    await chancy.pause_queue("q", resume_at=when)
    assert (await chancy.get_queue("q")).resume_at == when
    await chancy.pause_queue("q")
    paused = await chancy.get_queue("q")
    assert (paused.state, paused.resume_at) == (Queue.State.PAUSED, None)


async def test_pause_missing_queue(chancy: Chancy) -> None:
    assert await chancy.pause_queue("nope") == 0
    assert await chancy.resume_queue("nope") == 0


# --- jobs ---------------------------------------------------------------------------


def fetch_params(app: Chancy, queue: str) -> tuple[Any, dict[str, Any]]:
    """build_fetch and values for its caller-supplied parameters, whatever their names."""
    stmt = jobs_sql.build_fetch(app.models)
    required = [name for name, b in stmt.compile().binds.items() if b.required]
    values: dict[str, Any] = {}
    for name in required:
        if "queue" in name:
            values[name] = queue
        elif "limit" in name:
            values[name] = 100
        elif "worker" in name:
            values[name] = "test-worker"
        else:  # pragma: no cover - a new parameter this test does not know about
            raise AssertionError(f"build_fetch has a new parameter {name!r}")
    return stmt, values


async def fetch(app: Chancy, queue: str = "default") -> list[uuid.UUID]:
    stmt, values = fetch_params(app, queue)
    async with app.engine.begin() as conn:
        return [row.id for row in (await conn.execute(stmt, values)).all()]


async def test_get_job_and_get_jobs(chancy: Chancy) -> None:
    a, b = await chancy.push(Job(func=FUNC)), await chancy.push(Job(func=FUNC, queue="x"))
    missing = Reference(uuid.uuid4())
    got = await chancy.get_job(a)
    assert got is not None and got.id == a.identifier and isinstance(got, QueuedJob)
    assert await chancy.get_job(missing) is None
    assert {j.id for j in await chancy.get_jobs([a, missing, b])} == {a.identifier, b.identifier}
    assert await chancy.get_jobs([]) == []
    with chancy:
        assert chancy.sync_get_job(a) == got
        assert chancy.sync_get_job(missing) is None


async def test_wait_for_job(chancy: Chancy) -> None:
    ref = await chancy.push(Job(func=FUNC))
    with pytest.raises(TimeoutError):
        await chancy.wait_for_job(ref, interval=0.01, timeout=0.05)
    running = await chancy.wait_for_job(
        ref, interval=0.01, timeout=5, states={QueuedJob.State.PENDING}
    )
    assert running is not None and running.state is QueuedJob.State.PENDING
    await set_state(chancy, ref, "succeeded")
    done = await chancy.wait_for_job(ref, interval=0.01, timeout=5)
    assert done is not None and done.state is QueuedJob.State.SUCCEEDED


async def test_wait_for_job_sees_a_change_while_waiting(chancy: Chancy) -> None:
    ref = await chancy.push(Job(func=FUNC))
    waiting = asyncio.ensure_future(chancy.wait_for_job(ref, interval=0.01, timeout=10))
    await set_state(chancy, ref, "failed")
    done = await waiting
    assert done is not None and done.state is QueuedJob.State.FAILED


async def test_wait_for_a_deleted_job(chancy: Chancy) -> None:
    ref = await chancy.push(Job(func=FUNC))
    await chancy.purge_jobs([ref])
    assert await chancy.wait_for_job(ref, interval=0.01, timeout=5) is None


async def test_wait_for_jobs(chancy: Chancy) -> None:
    ok, bad, gone, later = [await chancy.push(Job(func=FUNC)) for _ in range(4)]
    await set_state(chancy, ok, "succeeded")
    await set_state(chancy, bad, "failed")
    await chancy.purge_jobs([gone])
    with pytest.raises(TimeoutError):  # ``later`` is still pending
        await chancy.wait_for_jobs([ok, bad, gone, later], interval=0.01, timeout=0.05)
    await set_state(chancy, later, "succeeded")
    # The deleted job stops being waited for instead of hanging until the timeout.
    done = await chancy.wait_for_jobs([ok, bad, gone, later], interval=0.01, timeout=5)
    assert {j.id: j.state for j in done} == {
        ok.identifier: QueuedJob.State.SUCCEEDED,
        bad.identifier: QueuedJob.State.FAILED,
        later.identifier: QueuedJob.State.SUCCEEDED,
    }
    assert await chancy.wait_for_jobs([], timeout=1) == []
    only_gone = await chancy.wait_for_jobs([gone], interval=0.01, timeout=5)
    assert only_gone == []


async def test_cancel_pending_job(chancy: Chancy, listener: Listener) -> None:
    ref = await chancy.push(Job(func=FUNC))
    other = await chancy.push(Job(func=FUNC))
    await listener.drain()
    assert await chancy.cancel_job(ref) == 1
    cancelled = await chancy.get_job(ref)
    assert cancelled is not None and cancelled.state is QueuedJob.State.FAILED
    assert cancelled.completed_at is not None
    assert len(cancelled.errors) == 1 and "cancel" in cancelled.errors[0]["traceback"].lower()
    assert await listener.drain() == [{"t": "job.cancelled", "j": str(ref.identifier)}]
    assert await fetch(chancy) == [other.identifier]
    assert await fetch(chancy) == []
    # Already finished: nothing to cancel, nothing changes, nobody is told.
    assert await chancy.cancel_job(ref) == 0
    assert (await chancy.get_job(ref)).errors == cancelled.errors  # type: ignore[union-attr]
    assert await chancy.cancel_job(Reference(uuid.uuid4())) == 0
    assert await listener.drain() == []


async def test_cancel_running_job(chancy: Chancy, listener: Listener) -> None:
    ref = await chancy.push(Job(func=FUNC))
    assert await fetch(chancy) == [ref.identifier]
    running = await chancy.get_job(ref)
    assert running is not None and running.claim_id is not None
    await listener.drain()
    assert await chancy.cancel_job(ref) == 1
    cancelled = await chancy.get_job(ref)
    assert cancelled is not None and cancelled.state is QueuedJob.State.FAILED
    assert cancelled.claim_id is None  # a late result from the old claim is ignored
    assert cancelled.errors[-1]["attempt"] == 0
    assert await listener.drain() == [{"t": "job.cancelled", "j": str(ref.identifier)}]


async def test_retry_jobs(chancy: Chancy, listener: Listener) -> None:
    done = await chancy.push(Job(func=FUNC, queue="a"))
    failed = await chancy.push(Job(func=FUNC, queue="b", max_attempts=2))
    pending = await chancy.push(Job(func=FUNC, queue="c"))
    assert await fetch(chancy, "a") == [done.identifier]
    await set_state(chancy, done, "succeeded")
    await chancy.cancel_job(failed)
    await listener.drain()
    assert await chancy.retry_jobs([done, failed, pending]) == {"a", "b"}
    for ref in (done, failed):
        job = await chancy.get_job(ref)
        assert job is not None and job.state is QueuedJob.State.RETRYING
        assert (job.attempts, job.completed_at, job.started_at) == (0, None, None)
    assert (await chancy.get_job(failed)).errors  # type: ignore[union-attr]  # history kept
    assert (await chancy.get_job(pending)).state is QueuedJob.State.PENDING  # type: ignore[union-attr]
    assert sorted(await listener.pushed_queues()) == ["a", "b"]
    assert await fetch(chancy, "a") == [done.identifier]
    assert await chancy.retry_jobs([]) == set()


async def test_purge_jobs(chancy: Chancy) -> None:
    refs = [await chancy.push(Job(func=FUNC)) for _ in range(3)]
    await set_state(chancy, refs[0], "running")
    await set_state(chancy, refs[1], "succeeded")
    assert await chancy.purge_jobs(refs) == 2
    assert [j.id for j in await chancy.get_jobs(refs)] == [refs[0].identifier]
    assert await chancy.purge_jobs([]) == 0


async def test_get_all_workers_on_a_fresh_prefix(chancy: Chancy) -> None:
    assert await chancy.get_all_workers() == []


async def test_notify(chancy: Chancy, listener: Listener) -> None:
    async with chancy.engine.begin() as conn:
        await chancy.notify(conn, "custom.event", {"x": 1})
    async with chancy.engine.connect() as conn:
        await chancy.notify(conn, "rolled.back", {"x": 2})
        await conn.rollback()
    with chancy, chancy.sync_engine.begin() as conn:
        chancy.sync_notify(conn, "sync.event", {"y": [1, 2]})
    assert await listener.drain() == [
        {"t": "custom.event", "x": 1},
        {"t": "sync.event", "y": [1, 2]},
    ]


async def test_notify_disabled(dsn: str, chancy: Chancy, listener: Listener) -> None:
    quiet = Chancy(dsn, prefix=chancy.prefix, notifications=False, no_default_plugins=True)
    async with quiet, quiet.engine.begin() as conn:
        await quiet.notify(conn, "custom.event", {"x": 1})
    assert await listener.drain() == []


async def test_existing_async_engine_is_shared_not_disposed(chancy: Chancy) -> None:
    engine = create_async_engine(chancy.url)
    disposed: list[object] = []
    sa.event.listen(engine.sync_engine, "engine_disposed", disposed.append)
    try:
        async with Chancy(engine, prefix=chancy.prefix, no_default_plugins=True) as app:
            assert app.engine is engine
            ref = await app.push(Job(func=FUNC))
        assert disposed == []
        async with engine.connect() as conn:  # still usable by its owner
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
        assert await chancy.get_job(ref) is not None
    finally:
        await engine.dispose()
    assert len(disposed) == 1


async def test_sqlalchemy_url(chancy: Chancy, dsn: str) -> None:
    url = sa.make_url(dsn)
    async with Chancy(url, prefix=chancy.prefix, no_default_plugins=True) as app:
        assert await app.is_up_to_date()
        ref = await app.push(Job(func=FUNC))
    assert await chancy.get_job(ref) is not None


async def test_own_engine_is_disposed_on_exit(chancy: Chancy, dsn: str) -> None:
    app = Chancy(dsn, prefix=chancy.prefix, no_default_plugins=True)
    disposed: list[object] = []
    sa.event.listen(app.engine.sync_engine, "engine_disposed", disposed.append)
    async with app:
        await app.push(Job(func=FUNC))
    assert len(disposed) == 1


async def test_ex_methods_notify_inside_the_callers_transaction(
    chancy: Chancy, listener: Listener
) -> None:
    """delete/pause/resume_queue_ex notify like the other ``_ex`` methods, on commit."""
    await chancy.declare(Queue("a"))
    await chancy.declare(Queue("b"))
    await listener.drain()
    async with chancy.engine.begin() as conn:
        await chancy.pause_queue_ex(conn, "a")
        await chancy.resume_queue_ex(conn, "a")
        await chancy.delete_queue_ex(conn, "b")
    assert await listener.drain() == [
        {"t": "queue.paused", "q": "a"},
        {"t": "queue.resumed", "q": "a"},
        {"t": "queue.deleted", "q": "b"},
    ]
    async with chancy.engine.connect() as conn:
        await chancy.pause_queue_ex(conn, "a")
        await conn.rollback()
    assert await listener.drain() == []

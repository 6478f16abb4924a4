"""What the worker owner controls: the slot override, stopping claims at once on stop,
``queue_update`` / ``flush``, and the database backoff settings."""

from __future__ import annotations

import asyncio

from chancy import Chancy, Job, Queue, Reference
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import (
    ASYNC,
    job_rows,
    max_overlap,
    running_worker,
    side_rows,
    side_table,
    wait_for_state,
)


async def _push(app: Chancy, batch: list[Job]) -> list[Reference]:
    async with app.engine.begin() as conn:
        return await app.push_many_ex(conn, batch)


async def _run_batch(app: Chancy, table: str, queue: str, count: int) -> list[tuple[float, float]]:
    kwargs = {"dsn": app.conninfo, "table": table, "hold": 0.2}
    refs = await _push(app, [Job.from_func(jobs.record_run, queue=queue, kwargs=kwargs)] * count)
    for ref in refs:
        done = await app.wait_for_job(ref, interval=0.05, timeout=20)
        assert done is not None and done.state == "succeeded"
    return [(started, ended) for _, _, started, ended in await side_rows(app, table)]


async def test_worker_concurrency_overrides_the_queues_and_its_live_updates(
    chancy: Chancy,
) -> None:
    wide = Queue("wide", executor=ASYNC, concurrency=6, polling_interval=0.2)
    async with (
        side_table(chancy) as table,
        running_worker(chancy, wide, concurrency=2) as (worker, log),
    ):
        assert worker["wide"].concurrency == 2
        assert worker.executors["wide"].concurrency == 2
        assert max_overlap(await _run_batch(chancy, table, "wide", 6)) <= 2

        mark = log.mark()
        await chancy.declare(
            Queue("wide", executor=ASYNC, concurrency=9, polling_interval=0.1), upsert=True
        )
        await log.wait("worker.queue.updated", queue="wide", since=mark, timeout=5)
        assert worker["wide"].polling_interval == 0.1  # the update arrived...
        assert worker["wide"].concurrency == 2  # ...under the worker's own slot count
        assert worker.executors["wide"].concurrency == 2
        assert max_overlap(await _run_batch(chancy, table, "wide", 12)) <= 2


async def test_no_claim_after_stop_begins(chancy: Chancy) -> None:
    """A completion wakes the producer in the same instant stop() is called: the
    producer must see the stop, not claim the next pending job."""
    name = "stop-gate"
    queue = Queue("one", executor=ASYNC, concurrency=1, eager_polling=True, polling_interval=30)
    async with running_worker(chancy, queue) as (worker, log):
        first = await chancy.push(
            Job.from_func(jobs.wait_for_gate, queue="one", kwargs={"name": name})
        )
        await wait_for_state(chancy, first, "running")
        rest = await _push(
            chancy,
            [Job.from_func(jobs.note, queue="one", kwargs={"label": str(i)}) for i in range(5)],
        )
        stopping = asyncio.ensure_future(worker.stop())
        jobs.gate(name).set()  # the running job ends as stop begins
        assert await stopping
    jobs._gates.pop(name, None)
    rows = {row["id"]: row for row in await job_rows(chancy, queue="one")}
    assert rows[first.identifier]["state"] == "succeeded"
    claimed = [r for r in rest if rows[r.identifier]["taken_by"] is not None]
    assert claimed == [], "jobs were claimed after stop() began"
    assert {rows[r.identifier]["state"] for r in rest} == {"pending"}


async def test_a_signal_stops_claims_before_the_stop_task_runs(chancy: Chancy) -> None:
    import signal

    queue = Queue("sig", executor=ASYNC, concurrency=1, polling_interval=30)
    async with running_worker(chancy, queue) as (worker, _):
        worker._on_signal(signal.SIGTERM)
        # Synchronously, before any stop task has had a turn: claims are over.
        assert worker.shutdown_event.is_set()
        assert all(not p.may_claim for p in worker.assignment.producers.values())
        await worker.wait_for_shutdown()

"""What the worker owner controls: the slot override, stopping claims at once on stop,
``queue_update`` / ``flush``, and the database backoff settings."""

from __future__ import annotations

import asyncio
import signal

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from chancy import Chancy, Job, Queue, Reference
from chancy.backoff import DatabaseRetry
from chancy.worker import Worker
from chancy.worker.outcomes import evolve
from tests.cli.conftest import app_module, app_path  # noqa: F401  (fixtures)
from tests.helpers import job_rows
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import (
    ASYNC,
    max_overlap,
    running_worker,
    side_rows,
    side_table,
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
        await log.job_started(first)
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

    queue = Queue("sig", executor=ASYNC, concurrency=1, polling_interval=30)
    async with running_worker(chancy, queue) as (worker, _):
        worker._on_signal(signal.SIGTERM)
        # Synchronously, before any stop task has had a turn: claims are over.
        assert worker.shutdown_event.is_set()
        assert all(not p.may_claim for p in worker.assignment.producers.values())
        await worker.wait_for_shutdown()


async def test_queue_update_keeps_the_claim_and_the_stored_errors(chancy: Chancy) -> None:
    name = "update-gate"
    queue = Queue("upd", executor=ASYNC, concurrency=1, polling_interval=0.1)
    await chancy.declare(queue)
    ref = await chancy.push(
        Job.from_func(jobs.wait_for_gate, queue="upd", kwargs={"name": name}, max_attempts=3)
    )
    earlier = {"attempt": 0, "traceback": "RuntimeError: the first run failed"}
    table = chancy.models.Job.__table__
    async with chancy.engine.begin() as conn:  # as if a first run had failed
        await conn.execute(
            sa.update(table)
            .where(table.c.id == ref.identifier)
            .values(state="retrying", attempts=1, errors=[earlier])
        )
    async with running_worker(chancy, queue) as (worker, log):
        await log.job_started(ref)
        running = worker.executors["upd"].running(ref)
        assert running is not None and running.attempts == 1
        progress = evolve(running, meta={**running.meta, "progress": 50})
        assert await worker.queue_update(progress) is True
        await worker.flush()  # written now, not at the next batch
        (row,) = await job_rows(chancy, queue="upd")
        assert row["state"] == "running" and row["meta"]["progress"] == 50
        assert row["claim_id"] == running.claim_id  # still fenced: its outcome will apply
        assert (row["attempts"], row["errors"]) == (1, [earlier])
        jobs.gate(name).set()
        done = await chancy.wait_for_job(ref, interval=0.05, timeout=5)
    jobs._gates.pop(name, None)
    assert done.state == "succeeded" and done.attempts == 2 and done.errors == [earlier]
    # Stopped: updates are no longer accepted, and nothing is written.
    assert await worker.queue_update(evolve(done, meta={"late": True})) is False
    assert "late" not in (await chancy.get_job(ref)).meta


def test_backoff_settings_are_checked_and_shape_every_database_retry(chancy: Chancy) -> None:
    worker = Worker(chancy, backoff_initial=0.2, backoff_max=0.5, backoff_max_retries=4)
    assert (worker.backoff_initial, worker.backoff_max, worker.backoff_max_retries) == (
        0.2,
        0.5,
        4,
    )
    retry = worker.database_retry("test loop")
    assert isinstance(retry, DatabaseRetry) and retry.name == "test loop"
    ceilings = [0.2, 0.4, 0.5, 0.5]
    for ceiling in ceilings:  # doubling from backoff_initial, capped at backoff_max
        assert ceiling / 2 <= retry.next_delay() <= ceiling
    assert retry.max_retries == 4
    defaults = Worker(chancy)
    assert (defaults.backoff_initial, defaults.backoff_max, defaults.backoff_max_retries) == (
        1.0,
        60.0,
        None,
    )
    for bad in (
        {"backoff_initial": -1},
        {"backoff_initial": 5, "backoff_max": 1},
        {"backoff_max_retries": -1},
        {"backoff_max_retries": 1.5},
    ):
        with pytest.raises(ValueError, match="backoff"):
            Worker(chancy, **bad)
    for slots in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="concurrency"):
            Worker(chancy, concurrency=slots)  # type: ignore[arg-type]


async def test_database_retry_gives_up_after_max_retries_and_respects_cancellation(
    chancy: Chancy,
) -> None:
    retry = Worker(chancy, backoff_initial=0.001, backoff_max_retries=2).database_retry("x")
    error = ConnectionError("down")
    await retry.wait(error)
    await retry.wait(error)
    with pytest.raises(ConnectionError):
        await retry.wait(error)
    assert retry.exhausted
    retry.reset()
    await retry.wait(error)  # a success in between starts the count again

    async def cancelled_mid_query() -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        # psycopg may surface the cancellation as a database error: still a cancellation
        await retry.wait(ConnectionError("query cancelled"))

    with pytest.raises(asyncio.CancelledError):
        await asyncio.ensure_future(cancelled_mid_query())


async def test_a_worker_whose_retries_run_out_stops_and_reports_the_error(
    chancy: Chancy,
) -> None:
    queue = Queue("broken", executor=ASYNC, polling_interval=0.05)
    table = chancy.models.Job.__table__.name
    async with running_worker(
        chancy, queue, backoff_initial=0.01, backoff_max=0.02, backoff_max_retries=2
    ) as (worker, log):
        await _rename(chancy, table, f"{table}_away")  # every claim now fails
        try:
            await chancy_wake(worker, "broken")
            with pytest.raises(sa.exc.DBAPIError):
                async with asyncio.timeout(10):
                    await worker.wait_for_shutdown()
            assert log.matching("worker.stopped") or log.matching("worker.shutdown_timeout")
        finally:
            await _rename(chancy, f"{table}_away", table)


async def _rename(app: Chancy, old: str, new: str) -> None:
    async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new))
        )


async def chancy_wake(worker: Worker, name: str) -> None:
    """Make the producer of ``name`` run a pass now."""
    worker.assignment.producers[name].wake.set()


def test_cli_worker_start_concurrency_reaches_the_executors(
    app_path: str,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``chancy worker start --concurrency 2`` runs a queue declared with 6 slots on 2."""
    from click.testing import CliRunner

    import chancy.cli.main as cli_main
    import chancy.cli.worker as cli_worker

    seen: dict[str, int] = {}

    class Probe(Worker):
        async def wait_for_shutdown(self) -> None:  # the CLI's wait: look, then leave
            async with asyncio.timeout(10):  # each queue.started may be the one
                while "default" not in self.executors:
                    await self.hub.wait_for("worker.queue.started")
            seen["slots"] = self.executors["default"].concurrency

    def run(*args: str) -> None:
        result = CliRunner().invoke(cli_main.cli, ["--app", app_path, *args])
        assert result.exit_code == 0, result.output

    run("misc", "migrate")
    run("queue", "declare", "default", "-c", "6", "-e", "Async")
    monkeypatch.setattr(cli_worker, "Worker", Probe)
    run("worker", "start", "--concurrency", "2")
    assert seen == {"slots": 2}

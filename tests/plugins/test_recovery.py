"""Recovery: jobs of vanished workers run again elsewhere, and the lost run's result is void."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
import sqlalchemy as sa

from chancy import Chancy, Queue, QueuedJob, Reference
from chancy.plugins.leadership import ImmediateLeadership
from chancy.plugins.recovery import Recovery
from chancy.worker import Worker
from chancy.worker.completer import Completer
from chancy.worker.outcomes import Outcome
from tests.helpers import poll_until, rows, update_jobs
from tests.plugins.helpers import ASYNC, claim_as, job, push_all, register_worker, started
from tests.prefix_pool import pooled_chancy

WORK = Queue("work", executor=ASYNC, concurrency=2, polling_interval=1)


async def complete_late(app: Chancy, row: sa.Row, state: str = "succeeded") -> int:
    """What the lost worker's completer writes if it comes back; returns outcomes applied."""
    claimed = QueuedJob.unpack(row._mapping)
    outcome = Outcome(dataclasses.replace(claimed, state=QueuedJob.State(state)), 0)
    completer = Completer(app.engine, app.models, log=app.log)
    await completer.put(outcome)
    return await completer.flush()


async def test_a_lost_workers_job_runs_again_and_its_late_result_is_ignored(dsn: str) -> None:
    recovery = Recovery(poll_interval=0.2, grace=0)
    async with pooled_chancy(
        dsn, plugins=[ImmediateLeadership(), recovery], no_default_plugins=True
    ) as app:
        await app.declare(WORK)
        [ref] = await push_all(app, [job("ok", queue="work", max_attempts=3)])
        # A worker that claimed the job and vanished without ever leaving a registry row.
        [lost] = await claim_as(app, "ghost", "work")
        assert lost.state == "running" and lost.attempts == 0  # counted when a run ends

        async with started(app) as worker:
            recovered = asyncio.ensure_future(worker.hub.wait_for("job.recovered", timeout=5))
            done = await app.wait_for_job(ref, interval=0.05, timeout=5)
            events = await recovered
        assert done is not None and done.state == "succeeded"
        assert done.attempts == 1  # the lost run was given back: one run counted
        assert [e["attempt"] for e in done.errors] == [0]
        assert "ghost" in done.errors[0]["traceback"]
        assert done.errors[0]["lost_worker"] == "ghost"
        assert events and events[0].body == {"j": str(ref.identifier), "c": str(lost.claim_id)}
        # The ghost's completer wakes up and reports failure under its old claim: ignored.
        assert await complete_late(app, lost, "failed") == 0
        assert (await rows(app, [ref]))[ref.identifier].state == "succeeded"


async def test_only_jobs_of_dead_or_expired_workers_are_recovered(chancy: Chancy) -> None:
    await register_worker(chancy, "expired", expires_in=-1)
    await register_worker(chancy, "alive", expires_in=60)
    refs = await push_all(chancy, [job("ok", queue=q, max_attempts=2) for q in "abc"])
    for worker_id, queue in (("expired", "a"), ("alive", "b"), ("missing", "c")):
        await claim_as(chancy, worker_id, queue)
    worker = Worker(chancy, register_signal_handlers=False)

    assert await Recovery(grace=0).recover(worker, chancy) == 2
    found = await rows(chancy, refs)
    expired, alive, missing = (found[r.identifier] for r in refs)
    assert alive.state == "running" and alive.taken_by == "alive" and alive.claim_id is not None
    for row in (expired, missing):
        assert row.state == "retrying"
        assert row.claim_id is None and row.taken_by is None and row.started_at is None
        assert row.completed_at is None and row.attempts == 0
        assert "WorkerLost" in row.errors[0]["traceback"]
    # Nothing left to do: a second pass recovers nothing.
    assert await Recovery(grace=0).recover(worker, chancy) == 0


async def test_a_lost_run_is_given_back_even_with_one_attempt(chancy: Chancy) -> None:
    """Upstream gives the interrupted attempt back: a max_attempts=1 job runs again."""
    [ref] = await push_all(chancy, [job("ok", queue="q")])  # max_attempts=1
    worker = Worker(chancy, register_signal_handlers=False)
    await claim_as(chancy, "killed", "q")
    assert await Recovery(grace=0).recover(worker, chancy) == 1
    row = (await rows(chancy, [ref]))[ref.identifier]
    assert (row.state, row.attempts, row.completed_at) == ("retrying", 0, None)
    assert row.errors == [
        {"attempt": 0, "traceback": row.errors[0]["traceback"], "lost_worker": "killed"}
    ]
    [again] = await claim_as(chancy, "next", "q")
    assert again.id == ref.identifier


async def test_a_job_that_keeps_losing_its_worker_fails_after_max_rescues(
    chancy: Chancy,
) -> None:
    [ref] = await push_all(chancy, [job("ok", queue="q", max_attempts=5)])
    worker = Worker(chancy, register_signal_handlers=False)
    recovery = Recovery(grace=0, max_rescues=2)
    lost = [f"doomed-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    for worker_id in lost:  # it crashes every worker it runs on
        [claimed] = await claim_as(chancy, worker_id, "q")
        assert claimed.attempts == 0
        assert await recovery.recover(worker, chancy) == 1
    row = (await rows(chancy, [ref]))[ref.identifier]
    assert row.state == "failed" and row.completed_at is not None
    assert row.attempts == 1  # the last lost run, the one that ended the job, counts
    assert [e["lost_worker"] for e in row.errors] == lost
    assert [e["attempt"] for e in row.errors] == [0, 0, 0]
    final = row.errors[-1]["traceback"]
    assert "lost 3 times" in final and "max_rescues=2" in final
    assert all(worker_id in final for worker_id in lost)
    assert await claim_as(chancy, "anyone", "q") == []


def test_max_rescues_must_be_a_count() -> None:
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="max_rescues"):
            Recovery(max_rescues=bad)  # type: ignore[arg-type]
    assert Recovery().max_rescues == 3


async def test_recent_claims_get_a_grace_period(chancy: Chancy) -> None:
    [ref] = await push_all(chancy, [job("ok", queue="q", max_attempts=2)])
    await claim_as(chancy, "starting-up", "q")
    worker = Worker(chancy, register_signal_handlers=False)
    assert await Recovery(grace=30).recover(worker, chancy) == 0
    await update_jobs(chancy, [ref], started_at=sa.func.now() - dt.timedelta(minutes=1))
    assert await Recovery(grace=30).recover(worker, chancy) == 1


async def test_the_lost_claim_cannot_overwrite_the_next_run(chancy: Chancy) -> None:
    [ref] = await push_all(chancy, [job("ok", queue="q", max_attempts=3)])
    [lost] = await claim_as(chancy, "ghost", "q")
    assert await Recovery(grace=0).recover(Worker(chancy), chancy) == 1
    # Another worker runs it again; meanwhile the ghost's result arrives.
    [again] = await claim_as(chancy, "new", "q")
    assert again.claim_id != lost.claim_id
    assert await complete_late(chancy, lost, "succeeded") == 0
    row = (await rows(chancy, [ref]))[ref.identifier]
    assert row.state == "running" and row.taken_by == "new"
    assert await complete_late(chancy, again, "succeeded") == 1


async def test_recovery_works_in_bounded_batches(chancy: Chancy) -> None:
    refs = await push_all(chancy, [job("ok", queue="q", max_attempts=2) for _ in range(5)])
    await claim_as(chancy, "ghost", "q", up_to=5)
    worker = Worker(chancy, register_signal_handlers=False)
    assert await Recovery(grace=0, batch_size=2).recover(worker, chancy) == 5
    assert {r.state for r in (await rows(chancy, refs)).values()} == {"retrying"}


RUN_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from chancy import Chancy
    from chancy.worker import Worker

    async def main(dsn, prefix):
        async with Chancy(dsn, prefix=prefix, no_default_plugins=True) as app:
            worker = Worker(
                app, worker_id="doomed", queues=["work"], register_signal_handlers=False,
                heartbeat_poll_interval=0.3, heartbeat_timeout=1,
            )
            await worker.start()
            await worker.wait_for_shutdown()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def wait_running(app: Chancy, ref: Reference, proc: subprocess.Popen[bytes]) -> None:
    """Until the subprocess worker runs the job; fails fast if the subprocess died."""

    async def running() -> bool:  # polled: the worker is another process
        assert proc.poll() is None, "the worker subprocess exited early (see stderr)"
        return (await rows(app, [ref]))[ref.identifier].state == "running"

    await poll_until(running, what="the subprocess worker to run the job", timeout=20)


async def test_a_sigkilled_workers_job_runs_on_another_worker(dsn: str) -> None:
    async with pooled_chancy(
        dsn,
        plugins=[ImmediateLeadership(), Recovery(poll_interval=0.2, grace=0)],
        no_default_plugins=True,
    ) as app:
        await app.declare(Queue("default", executor=ASYNC))
        await app.declare(WORK)
        [ref] = await push_all(app, [job("hang_first", queue="work")])
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        proc = subprocess.Popen([sys.executable, "-c", RUN_WORKER, dsn, app.prefix], env=env)
        try:
            await wait_running(app, ref, proc)
            proc.send_signal(signal.SIGKILL)
            assert await asyncio.to_thread(proc.wait, 5) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        async with started(app):
            done = await app.wait_for_job(ref, interval=0.05, timeout=10)
        assert done is not None and done.state == "succeeded" and done.attempts == 1
        assert "doomed" in done.errors[0]["traceback"]

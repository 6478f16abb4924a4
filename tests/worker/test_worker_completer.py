"""The completer: outcomes are written in batches, and only over the claim they belong to."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from chancy import Chancy, Job, Queue, QueuedJob
from chancy.db.statements.jobs import row_to_job
from chancy.worker.completer import Completer
from chancy.worker.outcomes import Outcome, after_run
from tests.helpers import claim_rows, job_rows
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import ASYNC, running_worker

LOG = logging.getLogger("chancy")


async def _claim(app: Chancy, queue: str, up_to: int = 10) -> list[QueuedJob]:
    return [row_to_job(row) for row in await claim_rows(app, queue, "test", up_to)]


async def _update(app: Chancy, job: QueuedJob, **values: object) -> None:
    table = app.models.Job.__table__
    async with app.engine.begin() as conn:
        await conn.execute(sa.update(table).where(table.c.id == job.id).values(**values))


async def test_many_outcomes_share_few_writes(chancy: Chancy) -> None:
    pushed = [Job.from_func(jobs.note, queue="batch", kwargs={"label": str(i)}) for i in range(60)]
    refs = [ref async for batch in chancy.push_many(pushed) for ref in batch]
    async with running_worker(chancy, Queue("batch", executor=ASYNC, concurrency=60)) as (
        worker,
        log,
    ):
        done = await chancy.wait_for_jobs(refs, interval=0.05, timeout=10)
        flushes = log.matching("worker.jobs.updated")
    assert {j.state for j in done} == {"succeeded"} and len(done) == 60
    assert sum(len(e.body["jobs"]) for e in flushes) == 60
    # 60 jobs finishing together are saved in a handful of statements, not 60.
    assert len(flushes) <= 6
    assert worker.completer.flushed_total == 60


async def test_outcome_applies_to_its_own_claim(chancy: Chancy) -> None:
    await chancy.push(Job.from_func(jobs.note, queue="own", kwargs={"label": "x"}))
    (claimed,) = await _claim(chancy, "own")
    completer = Completer(chancy.engine, chancy.models, log=LOG)
    await completer.put(Outcome(after_run(claimed, None), 0))
    assert await completer.flush() == 1
    (row,) = await job_rows(chancy, queue="own")
    assert row["state"] == "succeeded" and row["claim_id"] is None and row["attempts"] == 1


async def test_late_outcome_never_overwrites_a_cancelled_or_reclaimed_job(
    chancy: Chancy,
) -> None:
    for i in range(3):
        await chancy.push(Job.from_func(jobs.boom, queue="guard", max_attempts=5, priority=-i))
    cancelled, reclaimed, untouched = await _claim(chancy, "guard")
    # Meanwhile: one is cancelled, one recovered and claimed again by someone else.
    await chancy.cancel_job(cancelled.reference)
    new_claim = uuid.uuid4()
    await _update(chancy, reclaimed, claim_id=new_claim, taken_by="other", attempts=2)

    completer = Completer(chancy.engine, chancy.models, log=LOG)
    for job in (cancelled, reclaimed, untouched):
        await completer.put(Outcome(after_run(job, RuntimeError("late")), len(job.errors)))
    assert len(completer) == 3
    assert await completer.flush() == 1
    assert len(completer) == 0

    rows = {row["id"]: row for row in await job_rows(chancy, queue="guard")}
    gone = rows[cancelled.id]
    assert gone["state"] == "failed"
    assert [e["traceback"].split(":")[0] for e in gone["errors"]] == ["Cancelled"]
    other = rows[reclaimed.id]
    assert (other["state"], other["claim_id"], other["taken_by"]) == ("running", new_claim, "other")
    assert other["attempts"] == 2 and other["errors"] == []
    mine = rows[untouched.id]
    assert mine["state"] == "retrying" and len(mine["errors"]) == 1
    assert "late" in mine["errors"][0]["traceback"]

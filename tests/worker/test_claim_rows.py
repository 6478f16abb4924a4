"""The worker's claim builds its jobs from text JSON (chancy.db.claimed): the same
jobs that QueuedJob.unpack builds from the decoded row, empty or not, prepared or not."""

from __future__ import annotations

import pytest

from chancy import Chancy, Job, Limit, Queue
from chancy.worker import Worker
from chancy.worker.producer import Producer


@pytest.mark.parametrize("prepared", [True, False])
async def test_claimed_jobs_equal_the_stored_rows(chancy: Chancy, dsn: str, prepared: bool) -> None:
    app = Chancy(dsn, prefix=chancy.prefix, no_default_plugins=True, prepared_statements=prepared)
    full = Job(
        func="m.f",
        queue="q",
        kwargs={"a": [1, {"b": None}], "c": "é"},
        meta={"m": 1},
        limits=[Limit(Limit.Type.TIME, 5)],
        unique_key="k",
        priority=3,
        max_attempts=4,
    )
    refs = [await app.push(full), await app.push(Job(func="m.g", queue="q", kwargs=None))]
    worker = Worker(app, queues=["q"], register_signal_handlers=False)
    try:
        claimed = await Producer(worker, Queue("q")).claim(10)
    finally:
        await worker.engine.dispose()
        await app.__aexit__(None, None, None)
    stored = await chancy.get_jobs(refs)
    assert [j.id for j in claimed] == [r.identifier for r in refs]
    assert sorted(claimed, key=lambda j: j.id) == sorted(stored, key=lambda j: j.id)
    assert claimed[0].kwargs == {"a": [1, {"b": None}], "c": "é"} and claimed[1].kwargs == {}
    assert claimed[0].limits == [Limit(Limit.Type.TIME, 5)] and claimed[1].errors == []
    assert {j.state for j in claimed} == {"running"}

from __future__ import annotations

from chancy import Chancy, Job, Queue


def work() -> None:
    pass


async def test_push_and_read_back(chancy: Chancy) -> None:
    await chancy.declare(Queue("default"))
    ref = await chancy.push(Job.from_func(work, kwargs={"a": 1}))
    job = await chancy.get_job(ref)
    assert job is not None
    assert job.kwargs == {"a": 1}
    assert job.state == job.State.PENDING

"""Reprioritize: waiting jobs matching the rule gain priority once per pass, up to a cap."""

from __future__ import annotations

import datetime as dt

import pytest

from chancy import Chancy
from chancy.plugins.leadership import ImmediateLeadership
from chancy.plugins.reprioritize import Reprioritize
from tests.helpers import rows, update_jobs
from tests.plugins.helpers import job, push_all, started
from tests.prefix_pool import pooled_chancy

R = Reprioritize.Rules
LATER = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


async def priorities(app: Chancy) -> dict[str, int]:
    return {row.func.rsplit(".", 1)[-1]: row.priority for row in (await rows(app)).values()}


async def test_matching_waiting_jobs_are_raised_once_per_pass_and_capped(chancy: Chancy) -> None:
    refs = await push_all(
        chancy,
        [
            job("ok", queue="slow", priority=0),
            job("ok", queue="slow", priority=8),
            job("ok", queue="fast", priority=0),
        ],
    )
    retrying, done, running = await push_all(
        chancy, [job("ok", queue="slow", priority=0) for _ in range(3)]
    )
    await update_jobs(chancy, [retrying], state="retrying")
    await update_jobs(chancy, [done], state="succeeded")
    await update_jobs(chancy, [running], state="running")
    plugin = Reprioritize(R.Queue() == "slow", priority_increase=3, maximum_priority=10)

    assert await plugin.reprioritize_jobs(chancy) == 3
    found = await rows(chancy)
    assert [found[r.identifier].priority for r in refs] == [3, 10, 0]
    assert found[retrying.identifier].priority == 3
    assert found[done.identifier].priority == 0
    assert found[running.identifier].priority == 0

    # The capped job is no longer touched; the others climb to the cap and stop there.
    assert await plugin.reprioritize_jobs(chancy) == 2
    assert await plugin.reprioritize_jobs(chancy) == 2
    assert await plugin.reprioritize_jobs(chancy) == 2
    assert await plugin.reprioritize_jobs(chancy) == 0
    found = await rows(chancy)
    assert [found[r.identifier].priority for r in refs] == [10, 10, 0]


async def test_paging_raises_each_job_exactly_once(chancy: Chancy) -> None:
    # Upstream 0.25 re-selected still-matching jobs every batch, raising them again and
    # again within one pass.
    refs = await push_all(chancy, [job("ok", scheduled_at=LATER) for _ in range(7)])
    plugin = Reprioritize(R.Age() >= 0, batch_size=2, priority_increase=1)
    assert await plugin.reprioritize_jobs(chancy) == 7
    assert {row.priority for row in (await rows(chancy, refs)).values()} == {1}


async def test_no_overflow_at_the_top_of_the_range(chancy: Chancy) -> None:
    top = 2**31 - 1
    [ref] = await push_all(chancy, [job("ok", priority=top - 1)])
    plugin = Reprioritize(R.Age() >= 0, priority_increase=1000)
    assert await plugin.reprioritize_jobs(chancy) == 1
    assert (await rows(chancy, [ref]))[ref.identifier].priority == top
    assert await plugin.reprioritize_jobs(chancy) == 0


async def test_empty_table_is_a_no_op(chancy: Chancy) -> None:
    assert await Reprioritize(R.Age() >= 0).reprioritize_jobs(chancy) == 0


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Reprioritize(R.Age() > 0, batch_size=0)
    with pytest.raises(ValueError, match="priority_increase"):
        Reprioritize(R.Age() > 0, priority_increase=0)
    with pytest.raises(ValueError, match="32 bits"):
        Reprioritize(R.Age() > 0, maximum_priority=2**31)
    with pytest.raises(TypeError, match="rule"):
        Reprioritize("Age > 0")  # type: ignore[arg-type]


async def test_the_leader_raises_priorities_periodically(dsn: str) -> None:
    plugin = Reprioritize(R.Age() >= 0, check_interval=0.2, priority_increase=5)
    async with pooled_chancy(
        dsn, plugins=[ImmediateLeadership(), plugin], no_default_plugins=True
    ) as app:
        [ref] = await push_all(app, [job("ok", queue="later", scheduled_at=LATER)])
        async with started(app) as worker:
            events = await worker.hub.wait_for("reprioritize.raised", timeout=5)
            assert events and events[0].body["rows_raised"] == 1
        assert (await rows(app, [ref]))[ref.identifier].priority >= 5

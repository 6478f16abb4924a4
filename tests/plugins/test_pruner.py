"""Pruner: only finished jobs matching the rule go, in bounded batches, on the leader."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.job import Reference
from chancy.plugin import Plugin
from chancy.plugins.leadership import ImmediateLeadership, Leadership
from chancy.plugins.pruner import Pruner
from tests.helpers import rows, update_jobs
from tests.plugins.helpers import job, push_all, started
from tests.prefix_pool import pooled_chancy

STATES = ("pending", "running", "retrying", "succeeded", "failed")
TWO_DAYS_AGO = sa.func.now() - dt.timedelta(days=2)
ONE_MINUTE = dt.timedelta(minutes=1)


async def mixed_jobs(app: Chancy, queue: str = "q") -> dict[tuple[str, bool], Reference]:
    """One job per (state, old?) pair; old ones were created and finished two days ago."""
    keys = [(state, old) for state in STATES for old in (True, False)]
    refs = await push_all(app, [job("ok", queue=queue) for _ in keys])
    by_key = dict(zip(keys, refs, strict=True))
    for (state, old), ref in by_key.items():
        finished = state in ("succeeded", "failed")
        values = {"state": state, "completed_at": sa.func.now() if finished else None}
        if old:
            values |= {"created_at": TWO_DAYS_AGO}
            if finished:
                values |= {"completed_at": TWO_DAYS_AGO}
        await update_jobs(app, [ref], **values)
    return by_key


async def test_default_rule_prunes_finished_jobs_older_than_a_day(chancy: Chancy) -> None:
    by_key = await mixed_jobs(chancy)
    assert await Pruner().prune(chancy) == 2
    left = await rows(chancy)
    gone = {key for key, ref in by_key.items() if ref.identifier not in left}
    assert gone == {("succeeded", True), ("failed", True)}


async def test_no_rule_can_prune_unfinished_jobs(chancy: Chancy) -> None:
    await mixed_jobs(chancy, queue="everything")
    pruner = Pruner(Pruner.Rules.Queue() == "everything")
    assert await pruner.prune(chancy) == 4
    left = {row.state for row in (await rows(chancy)).values()}
    assert left == {"pending", "running", "retrying"}
    assert len(await rows(chancy)) == 6


async def test_rules_combine(chancy: Chancy) -> None:
    a = await mixed_jobs(chancy, queue="a")
    b = await mixed_jobs(chancy, queue="b")
    R = Pruner.Rules
    pruner = Pruner((R.Queue() == "a") & (R.Age() > 3600) & (R.State() == "failed"))
    assert await pruner.prune(chancy) == 1
    left = await rows(chancy)
    assert a[("failed", True)].identifier not in left
    assert all(ref.identifier in left for ref in b.values())


async def test_pruning_is_bounded_and_batched(chancy: Chancy) -> None:
    refs = await push_all(chancy, [job("ok") for _ in range(25)])
    await update_jobs(chancy, refs, state="succeeded", completed_at=sa.func.now())
    pruner = Pruner(Pruner.Rules.Age() >= 0, maximum_to_prune=15, batch_size=4)
    assert await pruner.prune(chancy) == 15
    assert len(await rows(chancy)) == 10
    assert await pruner.prune(chancy) == 10
    assert await pruner.prune(chancy) == 0


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="maximum_to_prune"):
        Pruner(maximum_to_prune=0)
    with pytest.raises(ValueError, match="batch_size"):
        Pruner(batch_size=0)
    assert "86400" in repr(Pruner().rule)


class CountingCleanup(Plugin):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.called = asyncio.Event()

    @staticmethod
    def get_identifier() -> str:
        return "tests.cleanup"

    async def cleanup(self, chancy: Chancy) -> int | None:
        self.calls += 1
        self.called.set()
        return 3


async def test_the_leader_prunes_then_asks_plugins_to_clean_up(dsn: str) -> None:
    cleanup = CountingCleanup()
    pruner = Pruner(Pruner.Rules.Age() > 3600, poll_interval=0.2)
    async with pooled_chancy(
        dsn, plugins=[ImmediateLeadership(), pruner, cleanup], no_default_plugins=True
    ) as app:
        by_key = await mixed_jobs(app)
        async with started(app) as worker:
            removed = asyncio.ensure_future(worker.hub.wait_for("pruner.removed", timeout=5))
            events = await removed
            async with asyncio.timeout(5):
                await cleanup.called.wait()
        assert events and events[0].body["rows_removed"] == 2
        left = await rows(app)
        assert by_key[("succeeded", True)].identifier not in left
        assert by_key[("pending", True)].identifier in left


async def test_followers_do_not_prune(dsn: str) -> None:
    pruner = Pruner(Pruner.Rules.Age() > 3600, poll_interval=0.1)
    leadership = Leadership(poll_interval=0.2, timeout=1)
    async with pooled_chancy(dsn, plugins=[leadership, pruner], no_default_plugins=True) as app:
        # Another worker holds the lease for the whole test.
        t = app.models.Leader.__table__
        async with app.engine.begin() as conn:
            await conn.execute(
                sa.insert(t).values(id=1, worker_id="other", expires_at=sa.func.now() + ONE_MINUTE)
            )
        by_key = await mixed_jobs(app)
        async with started(app) as worker:
            assert await worker.hub.wait_for("pruner.removed", timeout=0.8) == []
            assert not worker.is_leader.is_set()
        assert by_key[("succeeded", True)].identifier in await rows(app)

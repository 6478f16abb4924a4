"""Cron: schedules, pushes on time from the leader only, no overlapping runs, time zones,
bad rows skipped, and the ``cron`` migration branch.

The plugin's clock is injected (``Cron(now=clock)``), so "the schedule is due" is set by
the test instead of waited for; the worker tests wait on hub events, never on sleeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from chancy import Chancy
from chancy.db.models import build_models
from chancy.errors import ConfigurationError, MigrationsNeededError
from chancy.hub import Event
from chancy.job import Reference
from chancy.plugins.cron import Cron
from chancy.plugins.cron import statements as cron_sql
from chancy.plugins.cron.models import build_cron_models
from chancy.plugins.leadership import ImmediateLeadership, Leadership
from chancy.testing import pushed_jobs
from chancy.worker import Worker
from tests.helpers import update_jobs
from tests.plugins.branch_schema import CORE_STEMS, diff_with, table_stems
from tests.plugins.helpers import job, started
from tests.prefix_pool import pooled_chancy

SECOND = dt.timedelta(seconds=1)
EVERY_SECOND = "* * * * * *"


class Clock:
    """A settable clock for ``Cron(now=...)``."""

    def __init__(self) -> None:
        self.value = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.value


class CountingCron(Cron):
    """Counts its polls, so a test can tell a worker that polled from one that never did."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.steps = 0
        self.stepped = asyncio.Event()

    async def step(self, worker: Worker, chancy: Chancy) -> dict[str, Reference]:
        self.steps += 1
        result = await super().step(worker, chancy)
        self.stepped.set()
        return result


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(dsn: str, clock: Clock) -> AsyncIterator[Chancy]:
    """A migrated app with Cron (60 s polls: only the test's own calls push)."""
    plugins = [Cron(now=clock), ImmediateLeadership()]
    async with pooled_chancy(dsn, plugins=plugins, no_default_plugins=True) as chancy:
        yield chancy


def plugin(app: Chancy) -> Cron:
    return app.plugins["chancy.cron"]


async def schedule_row(app: Chancy, key: str) -> Any:
    return (await Cron.get_schedules(app, unique_keys=[key]))[key]


async def test_schedule_requires_a_unique_key_and_a_valid_expression(app: Chancy) -> None:
    with pytest.raises(ValueError, match="requires that each job has a unique_key"):
        await Cron.schedule(app, "* * * * *", job("ok"))
    with pytest.raises(ConfigurationError, match="Invalid cron expression"):
        await Cron.schedule(app, "every minute", job("ok", unique_key="k"))
    with pytest.raises(ConfigurationError, match="Unknown time zone"):
        await Cron.schedule(app, "* * * * *", job("ok", unique_key="k"), timezone="Nowhere/X")
    assert await Cron.get_schedules(app) == {}


async def test_schedule_reschedule_filter_and_unschedule(app: Chancy) -> None:
    before = dt.datetime.now(dt.UTC)
    await Cron.schedule(
        app, "*/5 * * * *", job("ok", unique_key="a", kwargs={"n": 1}), job("ok", unique_key="b")
    )
    schedules = await Cron.get_schedules(app)
    assert set(schedules) == {"a", "b"}
    a = schedules["a"]
    assert (a["cron"], a["timezone"], a["last_run"]) == ("*/5 * * * *", "Etc/UTC", None)
    assert before < a["next_run"] <= before + dt.timedelta(minutes=5)
    assert a["next_run"].minute % 5 == 0 and a["next_run"].second == 0
    assert (a["job"].func, a["job"].kwargs, a["job"].unique_key) == (
        f"{job('ok').func}",
        {"n": 1},
        "a",
    )

    # Same key again: the schedule is replaced, in its new zone.
    await Cron.schedule(app, "0 9 * * *", job("ok", unique_key="a"), timezone="Europe/Paris")
    a = await schedule_row(app, "a")
    assert (a["cron"], a["timezone"]) == ("0 9 * * *", "Europe/Paris")
    assert a["next_run"].astimezone(ZoneInfo("Europe/Paris")).time() == dt.time(9)
    assert set(await Cron.get_schedules(app, unique_keys=["a"])) == {"a"}
    assert set(await Cron.get_schedules(app, unique_keys=["a", "zzz"])) == {"a"}

    await Cron.unschedule(app, "a")
    assert set(await Cron.get_schedules(app)) == {"b"}


async def test_a_due_schedule_is_pushed_once_and_moves_to_its_next_run(
    app: Chancy, clock: Clock
) -> None:
    await Cron.schedule(app, EVERY_SECOND, job("ok", unique_key="tick", kwargs={"x": 1}))
    first = (await schedule_row(app, "tick"))["next_run"]

    clock.value = first - SECOND / 2
    assert await plugin(app).push_due(app) == {}
    assert await pushed_jobs(app) == []

    clock.value = first + SECOND / 4
    pushed = await plugin(app).push_due(app)
    assert set(pushed) == {"tick"}
    [queued] = await pushed_jobs(app)
    assert queued.reference == pushed["tick"]
    assert (queued.func, queued.kwargs, queued.unique_key) == (job("ok").func, {"x": 1}, "tick")
    # The job carries its nominal run time, which has passed: it is runnable at once.
    assert queued.scheduled_at == first
    row = await schedule_row(app, "tick")
    assert (row["last_run"], row["next_run"]) == (clock.value, first + SECOND)


async def test_overlapping_runs_are_prevented_by_the_unique_key(app: Chancy, clock: Clock) -> None:
    await Cron.schedule(app, EVERY_SECOND, job("ok", unique_key="tick"))
    clock.value = (await schedule_row(app, "tick"))["next_run"]
    ref = (await plugin(app).push_due(app))["tick"]

    # Later runs while the first job is still pending (then running) add nothing.
    for state in ("pending", "running"):
        await update_jobs(app, [ref], state=state)
        clock.value += 2 * SECOND
        assert await plugin(app).push_due(app) == {"tick": ref}
        assert len(await pushed_jobs(app)) == 1
        assert (await schedule_row(app, "tick"))["next_run"] == clock.value + SECOND

    # Once it has finished, the next run pushes a new job.
    await update_jobs(app, [ref], state="succeeded", completed_at=sa.func.now())
    clock.value += 2 * SECOND
    again = (await plugin(app).push_due(app))["tick"]
    assert again != ref
    assert {j.reference for j in await pushed_jobs(app, state="pending")} == {again}


async def test_unschedule_stops_the_pushes(app: Chancy, clock: Clock) -> None:
    await Cron.schedule(app, EVERY_SECOND, job("ok", unique_key="tick"), job("ok", unique_key="k2"))
    await Cron.unschedule(app, "tick")
    clock.value += dt.timedelta(days=1)
    assert set(await plugin(app).push_due(app)) == {"k2"}
    assert [j.unique_key for j in await pushed_jobs(app)] == ["k2"]


async def test_next_run_is_computed_in_the_schedule_time_zone(app: Chancy, clock: Clock) -> None:
    ny = ZoneInfo("America/New_York")
    await Cron.schedule(app, "0 9 * * *", job("ok", unique_key="standup"), timezone=ny)
    first = (await schedule_row(app, "standup"))["next_run"]
    assert first.astimezone(ny).time() == dt.time(9)
    assert dt.datetime.now(dt.UTC) < first <= dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)

    clock.value = first + SECOND
    assert set(await plugin(app).push_due(app)) == {"standup"}
    day_after = first.astimezone(ny).date() + dt.timedelta(days=1)
    expected = dt.datetime.combine(day_after, dt.time(9), tzinfo=ny)
    row = await schedule_row(app, "standup")
    assert row["next_run"] == expected
    assert row["timezone"] == "America/New_York"


async def test_invalid_rows_are_logged_and_skipped_without_blocking_others(
    app: Chancy, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    keys = ["a_cron", "b_zone", "c_job", "d_good"]
    await Cron.schedule(app, EVERY_SECOND, *(job("ok", unique_key=k) for k in keys))
    table = build_cron_models(app.models).Cron.__table__
    async with app.engine.begin() as conn:  # rows damaged by hand, or by another version
        for key, values in {
            "a_cron": {"cron": "not a cron"},
            "b_zone": {"timezone": "Nowhere/Land"},
            "c_job": {"job": {"q": "default"}},
        }.items():
            await conn.execute(sa.update(table).where(table.c.unique_key == key).values(**values))

    async def next_runs() -> dict[str, dt.datetime]:
        async with app.engine.connect() as conn:
            rows = await conn.execute(sa.select(table.c.unique_key, table.c.next_run))
            return {key: when for key, when in rows}

    due = await next_runs()
    # One row per transaction: the good row is only reached by paging past the bad ones.
    plugin(app).batch_size = 1
    clock.value += dt.timedelta(minutes=1)

    with caplog.at_level(logging.ERROR, logger="chancy"):
        assert set(await plugin(app).push_due(app)) == {"d_good"}
    skipped = {key for key in keys if any(repr(key) in r.getMessage() for r in caplog.records)}
    assert skipped == {"a_cron", "b_zone", "c_job"}
    # Bad rows stay as they were, due, until someone fixes or removes them.
    after = await next_runs()
    assert {k: after[k] for k in skipped} == {k: due[k] for k in skipped}
    assert after["d_good"] > due["d_good"]
    # The listing leaves out (and logs) the row it cannot decode.
    assert set(await Cron.get_schedules(app)) == {"a_cron", "b_zone", "d_good"}


async def test_the_leader_pushes_and_the_follower_never_polls(dsn: str, clock: Clock) -> None:
    crons = [CountingCron(poll_interval=0.02, now=clock) for _ in range(2)]
    async with pooled_chancy(
        dsn, plugins=[crons[0], Leadership()], no_default_plugins=True
    ) as first:
        second = Chancy(
            dsn, prefix=first.prefix, plugins=[crons[1], Leadership()], no_default_plugins=True
        )
        try:
            await Cron.schedule(first, EVERY_SECOND, job("ok", unique_key="tick"))
            clock.value -= dt.timedelta(minutes=1)  # nothing is due yet
            async with started(first) as w1, started(second) as w2:
                workers = [w1, w2]
                async with asyncio.timeout(5):
                    done, _ = await asyncio.wait(
                        [asyncio.ensure_future(w.is_leader.wait()) for w in workers],
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                [leader] = [i for i, w in enumerate(workers) if w.is_leader.is_set()]
                follower = 1 - leader
                seen: list[list[Event]] = [[], []]
                for i, w in enumerate(workers):
                    w.hub.on("cron.pushed", seen[i].append)

                clock.value += dt.timedelta(minutes=2)
                pushed = await workers[leader].hub.wait_for("cron.pushed", timeout=5)
                assert pushed and set(pushed[0].body["jobs"]) == {"tick"}
                # Let the leader poll a few more times: the follower still never does.
                crons[leader].stepped.clear()
                await asyncio.wait_for(crons[leader].stepped.wait(), 5)
                assert crons[leader].steps >= 2
                assert crons[follower].steps == 0
                assert seen[follower] == []
                assert len(await pushed_jobs(first, unique_key="tick")) == 1
        finally:
            await second.__aexit__(None, None, None)


async def test_without_leadership_every_worker_polls_and_a_run_is_pushed_once(
    dsn: str, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Upstream's Cron starts without a leadership plugin; so does ours, with a warning."""
    crons = [CountingCron(poll_interval=0.02, now=clock) for _ in range(2)]
    async with pooled_chancy(dsn, plugins=[crons[0]], no_default_plugins=True) as first:
        second = Chancy(dsn, prefix=first.prefix, plugins=[crons[1]], no_default_plugins=True)
        try:
            await Cron.schedule(first, EVERY_SECOND, job("ok", unique_key="tick"))
            clock.value += dt.timedelta(minutes=1)  # due for both workers
            with caplog.at_level(logging.WARNING, logger=first.log.name):
                async with started(first) as w1, started(second) as w2:
                    assert not w1.is_leader.is_set() and not w2.is_leader.is_set()
                    for cron in crons:  # both poll, leader or not
                        cron.stepped.clear()
                        await asyncio.wait_for(cron.stepped.wait(), 5)
                        cron.stepped.clear()
                        await asyncio.wait_for(cron.stepped.wait(), 5)
            assert len(await pushed_jobs(first, unique_key="tick")) == 1
        finally:
            await second.__aexit__(None, None, None)
    warnings = [r for r in caplog.records if "without a leadership plugin" in r.getMessage()]
    assert len(warnings) == 2  # once per worker, at start, not per poll


def test_cron_needs_no_leadership_and_checks_its_options() -> None:
    assert Cron.get_identifier() == "chancy.cron"
    assert Cron.get_dependencies() == []
    assert Cron.migrations_branch == "cron"
    with pytest.raises(ConfigurationError):
        Cron(poll_interval=0)
    with pytest.raises(ConfigurationError):
        Cron(batch_size=0)


async def test_enabling_cron_on_an_existing_database_migrates_only_its_branch(
    dsn: str, chancy: Chancy
) -> None:
    # ``chancy`` is migrated without plugins: core tables only.
    assert await table_stems(chancy) == CORE_STEMS
    app = Chancy(
        dsn,
        prefix=chancy.prefix,
        plugins=[Cron(), ImmediateLeadership()],
        no_default_plugins=True,
    )
    try:
        assert not await app.is_up_to_date()
        with pytest.raises(MigrationsNeededError):
            await Worker(app, register_signal_handlers=False).start()

        await app.migrate()
        assert await app.is_up_to_date()
        assert await table_stems(app) == CORE_STEMS | {"cron"}
        assert set(await app.current_revisions()) == {
            "cron_0001",
            app.migrator.core_revisions()[-1],
        }
        assert await diff_with(app, build_cron_models) == []

        # Removing the plugin drops its table and nothing else.
        await app.migrate_plugin("cron", remove=True)
        assert await table_stems(app) == CORE_STEMS
        assert not await app.is_up_to_date()
        assert await chancy.is_up_to_date()
    finally:
        await app.__aexit__(None, None, None)


async def test_model_drift_in_the_cron_table_is_detected(app: Chancy) -> None:
    """The drift check above can fail."""
    assert await diff_with(app, build_cron_models) == []
    async with app.engine.begin() as conn:
        await conn.execute(sa.text(f"DROP INDEX ix_{app.prefix}cron_next_run"))
    diffs = await diff_with(app, build_cron_models)
    assert [d[0] for d in diffs] == ["add_index"]


def test_the_due_claim_skips_rows_locked_by_another_poller() -> None:
    cm = build_cron_models(build_models("app_"))
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    sql = str(
        cron_sql.build_claim_due(cm, now, after_key="k", limit=10).compile(
            dialect=postgresql.dialect()
        )
    )
    assert "FOR UPDATE SKIP LOCKED" in sql
    assert "app_cron.next_run <=" in sql and "app_cron.unique_key >" in sql

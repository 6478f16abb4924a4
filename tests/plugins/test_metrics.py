"""Metrics plugin: in-memory aggregation, one-statement flushes, reads at every resolution,
leader gauges, retention, and the plugin's own Alembic branch."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from chancy import Chancy, Job, Queue
from chancy.errors import ConfigurationError, MigrationsNeededError
from chancy.plugins.metrics import RESOLUTIONS, Metrics
from chancy.plugins.metrics.aggregate import Aggregator, to_rows
from chancy.testing import isolated_chancy
from chancy.worker import Worker
from tests.plugins.branch_schema import diff_against, table_stems
from tests.prefix_pool import pooled_chancy

HERE = "tests.plugins.test_metrics"
ASYNC = Chancy.Executor.Async
ALL = list(RESOLUTIONS)


async def noop() -> None:
    return None


async def explode() -> None:
    raise RuntimeError("explode")


@pytest.fixture
async def app(dsn: str) -> AsyncIterator[Chancy]:
    plugin = Metrics(sync_interval=3600, collection_interval=3600)
    async with pooled_chancy(dsn, plugins=[plugin], no_default_plugins=True) as chancy:
        yield chancy


def metrics_of(app: Chancy) -> Metrics:
    return app.plugins["chancy.metrics"]


@contextlib.contextmanager
def statements(app: Chancy) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = app.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# -- aggregation (no database) -----------------------------------------------------------
def test_cells_roll_up_into_every_resolution() -> None:
    agg = Aggregator()
    base = 1_700_000_100  # 01:35 into a day, on a 5-minute boundary
    agg.counter("c", 2, minute=base)
    agg.counter("c", 3, minute=base + 60)
    agg.histogram("h", 1.0, minute=base)
    agg.histogram("h", 5.0, minute=base + 60)
    agg.gauge("g", 7, minute=base + 60)
    agg.gauge("g", 4, minute=base)
    rows = to_rows(agg.take(), ALL)
    assert len(agg) == 0
    found = {
        (k, r): (c, t, lo, hi, last)
        for k, r, c, t, lo, hi, last in zip(
            rows["m_keys"],
            rows["m_resolutions"],
            rows["m_counts"],
            rows["m_totals"],
            rows["m_minimums"],
            rows["m_maximums"],
            rows["m_lasts"],
            strict=True,
        )
    }
    # Two minutes stay two 1min buckets, and merge into one bucket of each wider resolution.
    assert rows["m_keys"].count("c") == 2 + 3
    for res in ("5min", "1hour", "1day"):
        assert found[("c", res)][:2] == (2, 5.0)
        assert found[("h", res)] == (2, 6.0, 1.0, 5.0, None)
        assert found[("g", res)][4] == 7  # the newer minute's value wins
    day = [
        b
        for k, r, b in zip(rows["m_keys"], rows["m_resolutions"], rows["m_buckets"], strict=True)
        if (k, r) == ("c", "1day")
    ]
    assert day == [dt.datetime(2023, 11, 14, tzinfo=dt.UTC)]
    # Sorted by (key, resolution, bucket): the order the upsert locks rows in.
    triples = list(zip(rows["m_keys"], rows["m_resolutions"], rows["m_buckets"], strict=True))
    assert triples == sorted(triples)


def test_job_batches_group_before_touching_keys() -> None:
    from chancy.job import QueuedJob

    now = dt.datetime.now(dt.UTC)
    jobs = [
        QueuedJob(
            id=__import__("uuid").uuid4(),
            func="m.f",
            queue="q",
            created_at=now,
            started_at=now - dt.timedelta(seconds=s),
            completed_at=now,
            state=QueuedJob.State.SUCCEEDED,
        )
        for s in (1, 3)
    ]
    agg = Aggregator()
    agg.record_jobs(jobs, "w1")
    cells = {key: cell for (key, _), cell in agg.take().items()}
    assert cells["queue:q:succeeded"][:3] == ["counter", 2, 2]
    assert cells["worker:w1:succeeded"][1] == 2
    assert cells["job:m.f:execution_time"][:5] == ["histogram", 2, 4.0, 1.0, 3.0]


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ConfigurationError):
        Metrics(max_points_per_resolution={"2min": 5})
    with pytest.raises(ConfigurationError):
        Metrics(sync_interval=0)


# -- with the database -------------------------------------------------------------------
async def test_job_metrics_are_recorded_and_readable_at_every_resolution(app: Chancy) -> None:
    await app.declare(Queue("default", executor=ASYNC, concurrency=20, polling_interval=1))
    jobs = [Job(func=f"{HERE}.noop") for _ in range(30)]
    jobs += [Job(func=f"{HERE}.explode") for _ in range(5)]
    async with app.engine.begin() as conn:
        refs = await app.push_many_ex(conn, jobs)
    worker = Worker(app, register_signal_handlers=False, shutdown_timeout=5)
    async with worker:
        await app.wait_for_jobs(refs, interval=0.05, timeout=15)
    # The worker's stop flushed the samples (sync_interval is an hour).
    plugin = metrics_of(app)
    for resolution in RESOLUTIONS:
        found = await plugin.get_metrics(app, key_prefix="queue:default", resolution=resolution)
        assert sum(p.total for p in found["queue:default:succeeded"].points) == 30
        assert sum(p.total for p in found["queue:default:failed"].points) == 5
        assert sum(p.total for p in found["queue:default:throughput"].points) == 35
        timing = found["queue:default:execution_time"]
        assert timing.metric_type == "histogram"
        assert sum(p.count for p in timing.points) == 35
        assert all(p.minimum is not None and p.minimum >= 0 for p in timing.points)
    failed = await plugin.get_metric(app, f"job:{HERE}.explode:failed", resolution="1hour")
    assert failed is not None and failed.points[0].value == 5
    mine = await plugin.get_metrics(app, key_prefix=f"worker:{worker.worker_id}")
    assert sum(p.total for p in mine[f"worker:{worker.worker_id}:succeeded"].points) == 30
    listed = await plugin.list_metrics(app, key_prefix="global")
    assert listed["global:status:succeeded"] == "counter"


async def test_a_flush_is_one_statement_and_flushes_merge(app: Chancy) -> None:
    plugin, other = metrics_of(app), Metrics()  # ``other`` stands in for a second worker
    for i in range(50):
        await plugin.increment_counter(f"custom:k{i}", 1)
    await plugin.record_histogram_value("custom:h", 2.0)
    await other.record_histogram_value("custom:h", 6.0)
    await other.increment_counter("custom:k0", 4)
    with statements(app) as seen:
        written = await plugin.flush(app)
    assert written == 51 * len(RESOLUTIONS)
    assert len(seen) == 1 and seen[0].lstrip().startswith("INSERT INTO")
    assert await plugin.flush(app) == 0  # nothing new: no statement at all
    await asyncio.gather(other.flush(app), plugin.flush(app))
    # Daily buckets, so a minute boundary passing mid-test cannot split the sums.
    k0 = await plugin.get_metric(app, "custom:k0", resolution="1day")
    assert k0 is not None and k0.points[0].total == 5 and k0.points[0].count == 2
    h = await plugin.get_metric(app, "custom:h", resolution="1day")
    assert h is not None
    assert h.points[0].value == {"count": 2, "sum": 8.0, "avg": 4.0, "min": 2.0, "max": 6.0}


async def test_a_failed_flush_keeps_its_samples(app: Chancy, dsn: str) -> None:
    plugin = metrics_of(app)
    await plugin.increment_counter("custom:kept", 3)
    async with pooled_chancy(dsn, no_default_plugins=True) as without_table:
        with pytest.raises(MigrationsNeededError, match="metrics' does not exist"):
            await plugin.flush(without_table)
    await plugin.increment_counter("custom:kept", 1)
    await plugin.flush(app)
    kept = await plugin.get_metric(app, "custom:kept", resolution="1day")
    assert kept is not None and kept.points[0].total == 4


async def test_a_flush_mixing_int_and_float_samples_is_written(app: Chancy) -> None:
    """Regression: an int gauge beside a float histogram made psycopg refuse the flush
    ("cannot dump lists of mixed types"), so a leader, which records both, lost them."""
    plugin = metrics_of(app)
    await app.declare(Queue("mixed", executor=ASYNC))
    async with app.engine.begin() as conn:
        await app.push_many_ex(conn, [Job(func="m.f", queue="mixed") for _ in range(3)])
    await plugin.collect(app)  # int gauges: queue depths and table sizes
    await plugin.record_gauge("custom:g", 7)
    await plugin.record_gauge("custom:g", 2.5)
    await plugin.record_histogram_value("custom:h", 0.25)
    await plugin.record_histogram_value("custom:h", 3)
    await plugin.increment_counter("custom:c", 2)
    await plugin.increment_counter("custom:c", 0.5)
    assert await plugin.flush(app) > 0
    depth = await plugin.get_metric(app, "queue:mixed:depth:pending", resolution="1day")
    assert depth is not None and depth.points[0].value == 3
    gauge = await plugin.get_metric(app, "custom:g", resolution="1day")
    assert gauge is not None and gauge.points[0].value == 2.5
    hist = await plugin.get_metric(app, "custom:h", resolution="1day")
    assert hist is not None
    assert hist.points[0].value == {"count": 2, "sum": 3.25, "avg": 1.625, "min": 0.25, "max": 3}
    counter = await plugin.get_metric(app, "custom:c", resolution="1day")
    assert counter is not None and counter.points[0].value == 2.5


async def test_a_failing_flush_logs_once_with_its_cause_and_keeps_samples(
    app: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = metrics_of(app)
    table = f"{app.prefix}metrics"
    await plugin.increment_counter("custom:kept", 3)
    async with app.engine.begin() as conn:
        await conn.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        with caplog.at_level("DEBUG", logger=app.log.name):
            assert not await plugin.flush_logged(app)
            await plugin.increment_counter("custom:kept", 1)
            assert not await plugin.flush_logged(app)
            assert not await plugin.flush_logged(app)
    finally:
        async with app.engine.begin() as conn:
            await conn.execute(sa.text(f"ALTER TABLE {table}_away RENAME TO {table}"))
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "MigrationsNeededError" in errors[0].getMessage()
    assert f"table {table!r} does not exist" in errors[0].getMessage()
    assert errors[0].exc_info is None  # one line with the cause, not a traceback per retry
    caplog.clear()
    with caplog.at_level("INFO", logger=app.log.name):
        assert await plugin.flush_logged(app)
    assert any("works again" in r.getMessage() for r in caplog.records)
    kept = await plugin.get_metric(app, "custom:kept", resolution="1day")
    assert kept is not None and kept.points[0].total == 4


async def test_a_sample_that_is_not_a_number_is_refused(app: Chancy) -> None:
    plugin = metrics_of(app)
    for record in (plugin.increment_counter, plugin.record_gauge, plugin.record_histogram_value):
        with pytest.raises(ConfigurationError, match="must be a number"):
            await record("custom:bad", "3")  # type: ignore[arg-type]
    assert len(plugin.aggregator) == 0


async def test_key_prefix_matches_whole_segments(app: Chancy) -> None:
    plugin = metrics_of(app)
    for key in ("queue:a", "queue:a:x", "queue:ab:x", "queue:a_b:x"):
        await plugin.increment_counter(key)
    await plugin.flush(app)
    assert set(await plugin.get_metrics(app, key_prefix="queue:a")) == {"queue:a", "queue:a:x"}
    assert set(await plugin.get_metrics(app, metric_prefix="queue:a_b")) == {"queue:a_b:x"}
    with pytest.raises(ConfigurationError):
        await plugin.get_metrics(app, resolution="2min")


async def test_leader_collects_queue_depth_and_table_sizes(app: Chancy) -> None:
    plugin = metrics_of(app)
    await app.declare(Queue("idle", executor=ASYNC))
    await app.declare(Queue("busy", executor=ASYNC))
    async with app.engine.begin() as conn:
        await app.push_many_ex(conn, [Job(func="m.f", queue="busy") for _ in range(7)])
    await plugin.collect(app)
    await plugin.flush(app)
    depth = await plugin.get_metrics(app, key_prefix="queue:busy:depth", resolution="1min")
    assert depth["queue:busy:depth:pending"].points[0].value == 7
    assert depth["queue:busy:depth:running"].points[0].value == 0
    idle = await plugin.get_metric(app, "queue:idle:depth:pending", resolution="1min")
    assert idle is not None and idle.metric_type == "gauge" and idle.points[0].value == 0
    size = await plugin.get_metric(app, "table:jobs:total_size_bytes", resolution="1min")
    assert size is not None and size.points[0].value > 0
    assert await plugin.get_metric(app, "table:metrics:total_size_bytes") is not None


async def test_retention_bounds_the_points_per_resolution(app: Chancy) -> None:
    plugin = metrics_of(app)
    plugin.max_points["1min"] = 3
    # The read window follows the clock: start well inside a minute (waits under 3 s).
    into_minute = time.time() % 60
    if into_minute > 57:
        await asyncio.sleep(60 - into_minute)
    now = Aggregator.minute(time.time())
    for age in range(6):  # one sample per minute for the last six minutes
        plugin.aggregator.counter("custom:r", 1, minute=now - 60 * age)
    await plugin.flush(app)
    recent = await plugin.get_metric(app, "custom:r", resolution="1min")
    assert recent is not None and len(recent.points) == 3
    assert recent.points[0].timestamp > recent.points[-1].timestamp  # newest first
    limited = await plugin.get_metric(app, "custom:r", resolution="1min", limit=2)
    assert limited is not None and len(limited.points) == 2
    at = dt.datetime.fromtimestamp(now + 30, dt.UTC)
    assert await plugin.expire(app, now=at) == 3  # the three oldest 1min buckets
    hourly = await plugin.get_metric(app, "custom:r", resolution="1hour")
    assert hourly is not None and sum(p.total for p in hourly.points) == 6
    assert await plugin.expire(app, now=at) == 0  # nothing left to expire


# -- migrations --------------------------------------------------------------------------
async def test_enabling_the_plugin_migrates_only_its_branch(dsn: str) -> None:
    async with isolated_chancy(dsn, no_default_plugins=True) as core_only:
        assert "metrics" not in await table_stems(core_only)
        app = Chancy(dsn, prefix=core_only.prefix, plugins=[Metrics()], no_default_plugins=True)
        async with app:
            assert not await app.is_up_to_date()
            await app.migrate()
            assert await app.is_up_to_date()
            stems = await table_stems(app)
            assert {"metrics", "jobs", "queues"} <= stems
            assert "workflows" not in stems
            assert "metrics_0001" in await app.current_revisions()
            assert await diff_against(app, Metrics) == []

            await app.migrate_plugin("metrics", remove=True)
            stems = await table_stems(app)
            assert "metrics" not in stems and {"jobs", "queues"} <= stems
            assert not await app.is_up_to_date()
            assert await core_only.is_up_to_date()

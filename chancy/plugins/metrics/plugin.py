"""The Metrics plugin: job counters and timings, queue depths and table sizes, over time.

Every worker aggregates in memory (see :mod:`chancy.plugins.metrics.aggregate`) and
writes what it gathered every ``sync_interval`` seconds in one statement, which merges
into shared rows: one per metric key, resolution and time bucket. Reading therefore needs
no cross-worker merge and works from any process, worker or not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from chancy.errors import ConfigurationError
from chancy.hub import Event
from chancy.plugin import Plugin
from chancy.plugins.metrics import statements as metrics_sql
from chancy.plugins.metrics.aggregate import (
    RESOLUTIONS,
    Aggregator,
    Resolution,
    to_rows,
)
from chancy.plugins.metrics.models import build_metrics_models

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["DEFAULT_MAX_POINTS", "Metric", "MetricPoint", "Metrics"]

#: Points kept per resolution: an hour of minutes, a day of 5 minutes, a week of hours,
#: 90 days.
DEFAULT_MAX_POINTS: dict[str, int] = {"1min": 60, "5min": 288, "1hour": 168, "1day": 90}
#: Job states counted as queue depth by the leader.
DEPTH_STATES = ("pending", "retrying", "running")
CORE_TABLES = ("jobs", "queues", "workers", "leader", "queue_rate_limits")


@dataclasses.dataclass(frozen=True)
class MetricPoint:
    """One bucket of a metric.

    ``count`` is the number of samples (or increments) and ``total`` their sum; for a
    counter ``total`` is the counted amount, for a gauge ``last`` is its value at the end of
    the bucket, for a histogram ``minimum``/``maximum``/``avg`` describe the samples.
    """

    timestamp: dt.datetime
    metric_type: str
    count: int
    total: float
    minimum: float | None
    maximum: float | None
    last: float | None

    @property
    def avg(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def value(self) -> float | dict[str, Any]:
        """Upstream's point value: the sum, the gauge value, or histogram statistics."""
        if self.metric_type == "counter":
            return self.total
        if self.metric_type == "gauge":
            return self.last if self.last is not None else self.total
        return {
            "count": self.count,
            "sum": self.total,
            "avg": self.avg,
            "min": self.minimum,
            "max": self.maximum,
        }


@dataclasses.dataclass(frozen=True)
class Metric:
    """A metric's buckets at one resolution, newest first; buckets without samples are absent."""

    key: str
    metric_type: str
    resolution: str
    points: list[MetricPoint]


def _number(key: str, value: Any) -> float:
    """A sample must be a real number: a bad one would make every later flush fail."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"Metric {key!r}: the value must be a number, got {value!r}.")
    return value


def _cause(exc: BaseException) -> str:
    """The driver's error in one line, without SQLAlchemy's statement and parameter dump."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return f"{type(orig).__name__}: {text.splitlines()[0] if text else repr(orig)}"


class Metrics(Plugin):
    """Records metrics for every job update, queue and table, kept in the database.

    Recorded automatically, per saved job update:

    * counters ``job:<func>:<state>``, ``queue:<queue>:<state>``,
      ``queue:<queue>:throughput``, ``global:status:<state>`` and
      ``worker:<worker_id>:<state>``;
    * histograms ``job:<func>:execution_time`` and ``queue:<queue>:execution_time``
      (seconds from start to completion of each run).

    By the leader, every ``collection_interval`` seconds: gauges
    ``queue:<queue>:depth:<pending|retrying|running>`` and
    ``table:<table>:<total|table|index>_size_bytes``.

    Each metric is kept at ``1min``, ``5min``, ``1hour`` and ``1day`` resolution, with at
    most ``max_points_per_resolution`` buckets each (older ones are deleted by the leader),
    and nothing older than ``maximum_metric_age`` seconds. Record your own with
    :meth:`increment_counter`, :meth:`record_gauge` and :meth:`record_histogram_value`;
    read with :meth:`get_metrics` / :meth:`get_metric`. Samples reach the database at the
    next flush (every ``sync_interval`` seconds, when the worker stops, or on
    :meth:`flush`).
    """

    migrations_branch = "metrics"

    def __init__(
        self,
        *,
        sync_interval: float = 10,
        max_points_per_resolution: dict[str, int] | None = None,
        maximum_metric_age: float = 60 * 60 * 24 * 90,
        collection_interval: float = 30,
    ) -> None:
        super().__init__()
        for name, value in (
            ("sync_interval", sync_interval),
            ("collection_interval", collection_interval),
            ("maximum_metric_age", maximum_metric_age),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"Metrics: {name} must be a positive number.")
        self.max_points = dict(DEFAULT_MAX_POINTS)
        for name, points in (max_points_per_resolution or {}).items():
            if name not in RESOLUTIONS:
                raise ConfigurationError(
                    f"Metrics: unknown resolution {name!r}; use one of {list(RESOLUTIONS)}."
                )
            if isinstance(points, bool) or not isinstance(points, int) or points < 1:
                raise ConfigurationError(f"Metrics: {name} must keep at least 1 point.")
            self.max_points[name] = points
        self.sync_interval = sync_interval
        self.maximum_metric_age = maximum_metric_age
        self.collection_interval = collection_interval
        self.aggregator = Aggregator()
        self._flush_lock = asyncio.Lock()
        #: The cause of the current run of failed flushes (None while flushes succeed).
        self._failing: str | None = None

    @staticmethod
    def get_identifier() -> str:
        return "chancy.metrics"

    def get_tables(self) -> list[str]:
        return ["metrics"]

    def api_plugin(self) -> str | None:
        return "chancy.plugins.metrics.api.MetricsApiPlugin"

    # -- recording ----------------------------------------------------------------------
    async def increment_counter(self, metric_key: str, value: float = 1) -> None:
        """Add ``value`` to a counter (per bucket, counters sum)."""
        self.aggregator.counter(metric_key, _number(metric_key, value))

    async def record_gauge(self, metric_key: str, value: float) -> None:
        """Record a point-in-time value (per bucket, the newest wins)."""
        self.aggregator.gauge(metric_key, _number(metric_key, value))

    async def record_histogram_value(self, metric_key: str, value: float) -> None:
        """Add a sample to a histogram (per bucket: count, sum, min, max, avg)."""
        self.aggregator.histogram(metric_key, _number(metric_key, value))

    # -- worker integration -------------------------------------------------------------
    async def on_worker_started(self, *, worker: Worker) -> None:
        def on_jobs_updated(event: Event) -> None:
            self.aggregator.record_jobs(event.body["jobs"], worker.worker_id)

        async def on_stopped(event: Event) -> None:
            # After the worker's final completer flush, so its last jobs are counted.
            if not await self.flush_logged(worker.chancy):
                worker.log.error(
                    "Metrics: the final flush failed (%s); %d sample cell(s) were lost.",
                    self._failing,
                    len(self.aggregator),
                )

        worker.hub.on("worker.jobs.updated", on_jobs_updated)
        worker.hub.on("worker.stopped", on_stopped)
        worker.hub.on("worker.shutdown_timeout", on_stopped)

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        async def collect() -> None:
            await self.collect(chancy)
            await self.expire(chancy)
            await self.flush_logged(chancy)

        await asyncio.gather(
            self.every(worker, self.sync_interval, lambda: self.flush_logged(chancy)),
            self.every(worker, self.collection_interval, collect, leader_only=True),
        )

    async def flush_logged(self, chancy: Chancy) -> bool:
        """:meth:`flush` for the periodic loops: True if it succeeded.

        A failure keeps the samples for the next flush and is logged once, with its
        cause, when a run of failures starts (not on every retry); the first success
        afterwards is logged too. Without this a broken flush either floods the log with
        tracebacks or, worse, goes unnoticed while the samples pile up.
        """
        try:
            await self.flush(chancy)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            cause = _cause(exc)
            if self._failing is None:
                chancy.log.error(
                    "Metrics: writing the samples failed (%s); they are kept and retried at "
                    "the next flush. Further failures are not logged until one succeeds.",
                    cause,
                )
            self._failing = cause
            return False
        if self._failing is not None:
            chancy.log.warning("Metrics: flushing works again after: %s.", self._failing)
            self._failing = None
        return True

    async def flush(self, chancy: Chancy) -> int:
        """Write every sample gathered so far in one statement; returns the rows written.

        If the write fails the samples are kept for the next flush.
        """
        async with self._flush_lock:
            cells = self.aggregator.take()
            if not cells:
                return 0
            params = to_rows(cells, self.max_points)
            try:
                mm = build_metrics_models(chancy.models)
                async with chancy.engine.begin() as conn:
                    await conn.execute(metrics_sql.build_record(mm), params)
            except BaseException:
                self.aggregator.restore(cells)
                raise
            return len(params["m_keys"])

    async def collect(self, chancy: Chancy) -> None:
        """Record queue depth and table size gauges (the leader does this periodically)."""
        stems = dict.fromkeys(CORE_TABLES)  # ordered, and a plugin may list a core table
        for plugin in chancy.plugins.values():
            stems.update(dict.fromkeys(plugin.get_tables()))
        tables = [f"{chancy.prefix}{stem}" for stem in stems]
        async with chancy.engine.connect() as conn:
            depths = (
                await conn.execute(metrics_sql.build_queue_depths(chancy.models, DEPTH_STATES))
            ).all()
            sizes = (await conn.execute(metrics_sql.build_table_sizes(tables))).all()
        found: dict[str, dict[str, int]] = {}
        for row in depths:
            per_state = found.setdefault(row.queue, dict.fromkeys(DEPTH_STATES, 0))
            if row.state is not None:
                per_state[row.state] = row.depth
        for queue, per_state in found.items():
            for state, depth in per_state.items():
                self.aggregator.gauge(f"queue:{queue}:depth:{state}", depth)
        for row in sizes:
            if row.total is None:
                continue
            stem = row.name.removeprefix(chancy.prefix)
            self.aggregator.gauge(f"table:{stem}:total_size_bytes", row.total)
            self.aggregator.gauge(f"table:{stem}:table_size_bytes", row.heap)
            self.aggregator.gauge(f"table:{stem}:index_size_bytes", row.indexes)

    def _cutoffs(self, now: dt.datetime) -> dict[str, dt.datetime]:
        oldest = now - dt.timedelta(seconds=self.maximum_metric_age)
        return {
            name: max(now - dt.timedelta(seconds=RESOLUTIONS[name] * points), oldest)
            for name, points in self.max_points.items()
        }

    async def expire(self, chancy: Chancy, *, now: dt.datetime | None = None) -> int:
        """Delete buckets beyond each resolution's retention; returns how many."""
        mm = build_metrics_models(chancy.models)
        stmt = metrics_sql.build_expire(mm, self._cutoffs(now or dt.datetime.now(dt.UTC)))
        async with chancy.engine.begin() as conn:
            return (await conn.execute(stmt)).rowcount

    async def cleanup(self, chancy: Chancy) -> int | None:
        """Called by the Pruner: the same retention as :meth:`expire`."""
        return await self.expire(chancy) or None

    # -- reading ------------------------------------------------------------------------
    async def get_metrics(
        self,
        chancy: Chancy,
        *,
        key_prefix: str | None = None,
        resolution: Resolution | str = "5min",
        limit: int | None = None,
        metric_prefix: str | None = None,
    ) -> dict[str, Metric]:
        """Metrics whose key is ``key_prefix`` or starts with ``key_prefix:``, by key.

        ``key_prefix`` matches whole ``:`` segments: ``queue:a`` matches
        ``queue:a:succeeded`` but not ``queue:ab:succeeded``. Each metric holds at most
        ``limit`` (default: the retention) of the newest buckets at ``resolution``.
        ``metric_prefix`` is upstream's name for ``key_prefix``.
        """
        return await self._read(
            chancy, key_prefix=key_prefix or metric_prefix, resolution=resolution, limit=limit
        )

    async def get_metric(
        self,
        chancy: Chancy,
        key: str,
        *,
        resolution: Resolution | str = "5min",
        limit: int | None = None,
    ) -> Metric | None:
        """One metric by its exact key, or None if it has no buckets in the window."""
        found = await self._read(chancy, keys=[key], resolution=resolution, limit=limit)
        return found.get(key)

    async def list_metrics(
        self, chancy: Chancy, *, key_prefix: str | None = None
    ) -> dict[str, str]:
        """Every stored metric key with its type (``counter``, ``gauge``, ``histogram``)."""
        mm = build_metrics_models(chancy.models)
        async with chancy.engine.connect() as conn:
            rows = (await conn.execute(metrics_sql.build_list(mm, key_prefix))).all()
        return {row.key: row.metric_type for row in rows}

    async def _read(
        self,
        chancy: Chancy,
        *,
        resolution: str,
        limit: int | None,
        key_prefix: str | None = None,
        keys: list[str] | None = None,
    ) -> dict[str, Metric]:
        if resolution not in self.max_points:
            raise ConfigurationError(
                f"Unknown metrics resolution {resolution!r}; use one of {list(RESOLUTIONS)}."
            )
        points = self.max_points[resolution]
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ConfigurationError(f"limit must be a positive int, got {limit!r}.")
            points = min(points, limit)
        width = RESOLUTIONS[resolution]
        now = int(dt.datetime.now(dt.UTC).timestamp())
        since = dt.datetime.fromtimestamp(now - now % width - width * (points - 1), dt.UTC)
        mm = build_metrics_models(chancy.models)
        stmt = metrics_sql.build_read(
            mm, resolution=resolution, since=since, key_prefix=key_prefix, keys=keys
        )
        async with chancy.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        found: dict[str, Metric] = {}
        for row in rows:
            metric = found.get(row.key)
            if metric is None:
                metric = found[row.key] = Metric(row.key, row.metric_type, resolution, [])
            metric.points.append(
                MetricPoint(
                    row.bucket,
                    row.metric_type,
                    row.count,
                    row.total,
                    row.minimum,
                    row.maximum,
                    row.last,
                )
            )
        return found

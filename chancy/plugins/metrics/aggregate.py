"""In-memory aggregation of metric samples between flushes. Pure Python, no I/O.

Recording sits on the worker's hot path (after every completer flush), so it only adds
numbers into a dict keyed by ``(metric key, minute)``. The coarser resolutions are derived
from the minute cells when flushing, and the flush turns everything into the arrays of a
single merged upsert (:func:`chancy.plugins.metrics.statements.build_record`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any, Literal

from chancy.job import QueuedJob

__all__ = ["RESOLUTIONS", "Aggregator", "MetricType", "Resolution"]

Resolution = Literal["1min", "5min", "1hour", "1day"]
MetricType = Literal["counter", "gauge", "histogram"]

#: Bucket width in seconds of each resolution. Every width divides a UTC day, so buckets
#: align on the epoch (a ``1day`` bucket starts at UTC midnight).
RESOLUTIONS: dict[str, int] = {"1min": 60, "5min": 300, "1hour": 3600, "1day": 86400}

# A cell: [metric_type, count, total, minimum, maximum, last]. A list rather than an
# object keeps the per-sample cost to a few item assignments.
Cell = list[Any]


def _merge(
    cell: Cell, count: int, total: float, low: float | None, high: float | None, last: float | None
) -> None:
    cell[1] += count
    cell[2] += total
    if low is not None:
        cell[3] = low if cell[3] is None or low < cell[3] else cell[3]
    if high is not None:
        cell[4] = high if cell[4] is None or high > cell[4] else cell[4]
    if last is not None:
        cell[5] = last


class Aggregator:
    """Samples per metric key and minute, waiting for the next flush."""

    def __init__(self) -> None:
        self._cells: dict[tuple[str, int], Cell] = {}

    def __len__(self) -> int:
        return len(self._cells)

    @staticmethod
    def minute(now: float | None = None) -> int:
        """The epoch second starting the current minute."""
        now = time.time() if now is None else now
        return int(now) // 60 * 60

    def add(
        self,
        key: str,
        metric_type: MetricType,
        *,
        count: int = 1,
        total: float = 0.0,
        low: float | None = None,
        high: float | None = None,
        last: float | None = None,
        minute: int | None = None,
    ) -> None:
        """Merge a block of samples into the ``(key, minute)`` cell."""
        slot = (key, self.minute() if minute is None else minute)
        cell = self._cells.get(slot)
        if cell is None:
            self._cells[slot] = [metric_type, count, total, low, high, last]
        else:
            cell[0] = metric_type
            _merge(cell, count, total, low, high, last)

    def counter(self, key: str, value: float = 1, *, minute: int | None = None) -> None:
        self.add(key, "counter", count=1, total=value, minute=minute)

    def gauge(self, key: str, value: float, *, minute: int | None = None) -> None:
        self.add(key, "gauge", total=value, low=value, high=value, last=value, minute=minute)

    def histogram(self, key: str, value: float, *, minute: int | None = None) -> None:
        self.add(key, "histogram", total=value, low=value, high=value, minute=minute)

    def record_jobs(self, jobs: Iterable[QueuedJob], worker_id: str | None = None) -> None:
        """Count a batch of saved job updates; time the ones that finished a run.

        Jobs are first grouped by (queue, func, state), so each metric key is touched once
        per batch rather than once per job.
        """
        # Per (queue, func, state): [job count, run durations in seconds].
        groups: dict[tuple[str, str, str], list[Any]] = {}
        for job in jobs:
            slot = (job.queue, job.func, job.state)
            group = groups.get(slot)
            if group is None:
                group = groups[slot] = [0, []]
            group[0] += 1
            started, completed = job.started_at, job.completed_at
            if started is not None and completed is not None:
                group[1].append((completed - started).total_seconds())
        minute = self.minute()
        for (queue, func, state), (n, durations) in groups.items():
            state = str(state)
            keys = [
                f"job:{func}:{state}",
                f"queue:{queue}:{state}",
                f"global:status:{state}",
                f"queue:{queue}:throughput",
            ]
            if worker_id is not None:
                keys.append(f"worker:{worker_id}:{state}")
            for key in keys:
                self.add(key, "counter", count=n, total=n, minute=minute)
            if durations:
                # Clock skew between the database (started_at) and this host can make a
                # very short run look negative; clamp to zero.
                total = max(sum(durations), 0.0)
                low, high = max(min(durations), 0.0), max(max(durations), 0.0)
                for key in (f"job:{func}:execution_time", f"queue:{queue}:execution_time"):
                    self.add(
                        key,
                        "histogram",
                        count=len(durations),
                        total=total,
                        low=low,
                        high=high,
                        minute=minute,
                    )

    def take(self) -> dict[tuple[str, int], Cell]:
        """Everything recorded so far; recording continues into an empty buffer."""
        cells, self._cells = self._cells, {}
        return cells

    def restore(self, cells: dict[tuple[str, int], Cell]) -> None:
        """Put back cells whose flush failed, merged with anything recorded since."""
        for slot, old in cells.items():
            cell = self._cells.get(slot)
            if cell is None:
                self._cells[slot] = old
            else:
                # Newer samples keep their type and gauge value; only the sums merge.
                _merge(cell, old[1], old[2], old[3], old[4], None)
                if cell[5] is None:
                    cell[5] = old[5]


def to_rows(cells: dict[tuple[str, int], Cell], resolutions: Iterable[str]) -> dict[str, list[Any]]:
    """The bind parameters of one flush: every cell rolled up into each resolution.

    Rows come out sorted by (key, resolution, bucket), the order the upsert locks them in.
    """
    merged: dict[tuple[str, str, int], Cell] = {}
    widths = [(name, RESOLUTIONS[name]) for name in resolutions]
    # Oldest minute first, so a gauge's newest value is the one that sticks.
    for (key, minute), cell in sorted(cells.items(), key=lambda item: item[0][1]):
        for name, width in widths:
            slot = (key, name, minute - minute % width)
            row = merged.get(slot)
            if row is None:
                merged[slot] = list(cell)
            else:
                row[0] = cell[0]
                _merge(row, cell[1], cell[2], cell[3], cell[4], cell[5])
    params: dict[str, list[Any]] = {
        name: []
        for name in (
            "m_keys",
            "m_resolutions",
            "m_buckets",
            "m_types",
            "m_counts",
            "m_totals",
            "m_minimums",
            "m_maximums",
            "m_lasts",
        )
    }
    for (key, name, bucket), row in sorted(merged.items()):
        params["m_keys"].append(key)
        params["m_resolutions"].append(name)
        params["m_buckets"].append(dt.datetime.fromtimestamp(bucket, dt.UTC))
        params["m_types"].append(row[0])
        params["m_counts"].append(row[1])
        params["m_totals"].append(float(row[2]))
        params["m_minimums"].append(row[3])
        params["m_maximums"].append(row[4])
        params["m_lasts"].append(row[5])
    return params

"""The Metrics plugin (``chancy.metrics``): counters, gauges and histograms over time.

::

    from chancy.plugins.metrics import Metrics

    metrics = Metrics()
    async with Chancy(dsn, plugins=[metrics]) as chancy:
        await chancy.migrate()  # creates the metrics table (Alembic branch "metrics")
        ...
        done = await metrics.get_metrics(chancy, key_prefix="queue:default", resolution="1min")
"""

from __future__ import annotations

from chancy.plugins.metrics.aggregate import RESOLUTIONS, MetricType, Resolution
from chancy.plugins.metrics.plugin import DEFAULT_MAX_POINTS, Metric, MetricPoint, Metrics

__all__ = [
    "DEFAULT_MAX_POINTS",
    "RESOLUTIONS",
    "Metric",
    "MetricPoint",
    "MetricType",
    "Metrics",
    "Resolution",
]

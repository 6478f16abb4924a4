"""``GET /metrics``: the queue's state in Prometheus' text format, read at scrape time.

A custom collector: each scrape runs a handful of bounded queries (see
:mod:`chancy.plugins.api.prometheus_statements`) in one read-only transaction with a statement
timeout, and exposes what they return. Nothing is kept between scrapes, so every worker
serving the API reports the same cluster-wide numbers and any one of them can be scraped.

Throughput and the two latency histograms are computed from job timestamps over a
recent window (``WINDOW`` seconds), not from the Metrics plugin's data: its buckets hold
only count, sum, minimum and maximum, from which Prometheus histogram buckets cannot be
derived, and they reach the database only every ``sync_interval``. Because the window
slides, the histograms are *gauge histograms*: use ``histogram_quantile`` on the
``_bucket`` series directly, without ``rate()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.requests import Request
from starlette.responses import Response

from chancy.plugins.api import prometheus_statements as prom_sql
from chancy.plugins.api.plugin import ApiPlugin, RouteT

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["BUCKETS", "WINDOW", "PrometheusApiPlugin", "scrape"]

#: Seconds of recent history behind throughput and the latency histograms.
WINDOW = 300
#: Histogram bucket bounds, in seconds.
BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
#: Each scrape's queries together must finish within this, or the scrape fails.
TIMEOUT_MS = 5000


class _Scraped(Collector):
    """Hands the registry the families one scrape built."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def _histogram(name: str, doc: str, rows: list[Any]) -> GaugeHistogramMetricFamily:
    family = GaugeHistogramMetricFamily(name, doc, labels=["queue"])
    for row in rows:
        buckets = [(str(float(b)), float(row[f"b{i}"])) for i, b in enumerate(BUCKETS)]
        buckets.append(("+Inf", float(row["count"])))
        family.add_metric([row["queue"]], buckets, float(row["total"]))
    return family


async def scrape(chancy: Chancy) -> list[Metric]:
    """Query the database once and build every family of the exposition."""
    started = time.perf_counter()
    models = chancy.models
    async with chancy.engine.connect() as conn, conn.begin():
        await conn.execute(prom_sql.build_statement_timeout(TIMEOUT_MS))
        counts = (await conn.execute(prom_sql.build_job_counts(models))).all()
        backlog = (await conn.execute(prom_sql.build_queue_backlog(models))).all()
        finished = (await conn.execute(prom_sql.build_recently_finished(models, WINDOW))).all()
        histograms = {}
        for kind in ("run", "wait"):
            stmt = prom_sql.build_duration_buckets(models, kind, WINDOW, BUCKETS)
            histograms[kind] = [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
    workers = await chancy.get_all_workers()

    jobs = GaugeMetricFamily(
        "chancy_jobs", "Jobs in the table, by queue and state.", labels=["queue", "state"]
    )
    for row in counts:
        jobs.add_metric([row.queue, row.state], row.jobs)
    ready = GaugeMetricFamily(
        "chancy_queue_depth", "Jobs ready to run now (pending or retrying, due).", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "chancy_queue_oldest_job_age_seconds",
        "Seconds the oldest ready job has waited since it became due (0 when none waits).",
        labels=["queue"],
    )
    paused = GaugeMetricFamily("chancy_queue_paused", "1 if the queue is paused.", labels=["queue"])
    for row in backlog:
        ready.add_metric([row.queue], row.ready)
        age.add_metric([row.queue], float(row.oldest_age or 0))
        paused.add_metric([row.queue], 1 if row.state == "paused" else 0)
    throughput = GaugeMetricFamily(
        "chancy_throughput_jobs_per_second",
        f"Jobs finished per second over the last {WINDOW} seconds, by queue and final state.",
        labels=["queue", "state"],
    )
    for row in finished:
        throughput.add_metric([row.queue, row.state], row.jobs / WINDOW)
    worker_count = GaugeMetricFamily("chancy_workers", "Workers with an unexpired heartbeat.")
    worker_count.add_metric([], len(workers))
    leader = GaugeMetricFamily(
        "chancy_worker_is_leader",
        "1 for the current leader, 0 for other workers.",
        labels=["worker_id"],
    )
    for worker in workers:
        leader.add_metric([worker["worker_id"]], 1 if worker["is_leader"] else 0)
    has_leader = GaugeMetricFamily("chancy_leader_present", "1 if some worker holds leadership.")
    has_leader.add_metric([], 1 if any(w["is_leader"] for w in workers) else 0)
    took = GaugeMetricFamily(
        "chancy_scrape_duration_seconds", "Seconds this scrape's queries took."
    )
    took.add_metric([], time.perf_counter() - started)
    return [
        jobs,
        ready,
        age,
        paused,
        throughput,
        _histogram(
            "chancy_job_run_seconds",
            f"Run time of jobs finished in the last {WINDOW} seconds (start to completion).",
            histograms["run"],
        ),
        _histogram(
            "chancy_job_wait_seconds",
            f"Push-to-start latency of jobs started in the last {WINDOW} seconds "
            "(from becoming due to being claimed).",
            histograms["wait"],
        ),
        worker_count,
        leader,
        has_leader,
        took,
    ]


class PrometheusApiPlugin(ApiPlugin):
    def name(self) -> str:
        return "prometheus"

    def routes(self) -> list[RouteT]:
        return [
            {
                "path": "/metrics",
                "endpoint": self.metrics,
                "methods": ["GET"],
                "name": "prometheus",
                "public": not self.api.metrics_auth,
            }
        ]

    @staticmethod
    async def metrics(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Scraped(await scrape(chancy)))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

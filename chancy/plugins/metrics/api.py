"""The Metrics plugin's API routes: the metric catalogue and time windows of one prefix.

``GET /api/v1/metrics/{prefix}`` takes ``resolution`` (``1min``, ``5min``, ``1hour``,
``1day``) and one way to choose the window: ``limit`` buckets, a ``range`` such as
``90m``, ``24h`` or ``7d``, or ``start`` (and optionally ``end``) as ISO 8601 times. A
window is at most 1000 buckets and a response at most 100 metrics (the first 100 keys;
the ``X-Chancy-Truncated`` header says when more matched). Answers are cached for 10
seconds, so dashboards polling the same chart share one query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from chancy.plugins.api.http import ApiError, json_response, parse_datetime, parse_int
from chancy.plugins.api.plugin import ApiPlugin, RouteT
from chancy.plugins.metrics.aggregate import RESOLUTIONS

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["MAX_BUCKETS", "MAX_METRICS", "MetricsApiPlugin"]

MAX_BUCKETS = 1000
MAX_METRICS = 100
CACHE_SECONDS = 10
CACHE_ENTRIES = 256
_RANGE = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclasses.dataclass(frozen=True)
class Window:
    resolution: str
    buckets: int
    start: dt.datetime | None
    end: dt.datetime | None


def parse_window(request: Request) -> Window:
    params = request.query_params
    resolution = params.get("resolution", "5min")
    if resolution not in RESOLUTIONS:
        raise ApiError(422, f"Unknown resolution {resolution!r}; use one of {list(RESOLUTIONS)}.")
    width = RESOLUTIONS[resolution]
    start = end = None
    if params.get("start"):
        start = parse_datetime(params["start"], "start")
        end = parse_datetime(params["end"], "end") if params.get("end") else None
        if end is not None and end <= start:
            raise ApiError(422, "end must be after start.")
        seconds = (dt.datetime.now(dt.UTC) - start).total_seconds()
        buckets = max(1, math.ceil(seconds / width) + 1)
    elif params.get("range"):
        match = _RANGE.match(params["range"])
        if not match or int(match[1]) < 1:
            raise ApiError(422, f"range must look like 90m, 24h or 7d, got {params['range']!r}.")
        buckets = math.ceil(int(match[1]) * _UNIT[match[2]] / width)
    else:
        buckets = parse_int(request, "limit", 60, minimum=1, maximum=MAX_BUCKETS)
    if buckets > MAX_BUCKETS:
        raise ApiError(
            422,
            f"That window is {buckets} buckets of {resolution}; at most {MAX_BUCKETS} are "
            "served. Use a coarser resolution or a shorter window.",
        )
    return Window(resolution, buckets, start, end)


class MetricsApiPlugin(ApiPlugin):
    def __init__(self, api: Any) -> None:
        super().__init__(api)
        self._cache: dict[tuple[Any, ...], tuple[float, dict[str, Any], bool]] = {}

    def name(self) -> str:
        return "metrics"

    def routes(self) -> list[RouteT]:
        return [
            {"path": "/api/v1/metrics", "endpoint": self.list_metrics, "methods": ["GET"]},
            {
                "path": "/api/v1/metrics/{prefix:path}",
                "endpoint": self.get_metrics,
                "methods": ["GET"],
            },
        ]

    @staticmethod
    async def list_metrics(request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """``{"categories": {category: [names]}, "count": N, "types": {key: type}}``."""
        types = await chancy.plugins["chancy.metrics"].list_metrics(chancy)
        categories: dict[str, set[str]] = {}
        for key in types:
            category, _, rest = key.partition(":")
            categories.setdefault(category, set()).add(rest.split(":", 1)[0])
        return json_response(
            {
                "categories": {c: sorted(n) for c, n in sorted(categories.items())},
                "count": len(types),
                "types": types,
            }
        )

    async def get_metrics(self, request: Request, *, chancy: Chancy, worker: Worker) -> Response:
        """``{key: {"type": ..., "data": [{"timestamp", "value"}]}}``, newest point first."""
        prefix = request.path_params["prefix"].strip(":")
        if not prefix:
            raise ApiError(422, "Name a metric key prefix, e.g. /api/v1/metrics/queue:default.")
        window = parse_window(request)
        key = (chancy.prefix, prefix, window)
        cached = self._cache.get(key)
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            cached = (time.monotonic(), *await self._read(chancy, prefix, window))
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = cached
        headers = {"X-Chancy-Truncated": "true"} if cached[2] else {}
        response = json_response(cached[1])
        response.headers.update(headers)
        return response

    @staticmethod
    async def _read(chancy: Chancy, prefix: str, window: Window) -> tuple[dict[str, Any], bool]:
        plugin = chancy.plugins["chancy.metrics"]
        found = await plugin.get_metrics(
            chancy, key_prefix=prefix, resolution=window.resolution, limit=window.buckets
        )
        keys = sorted(found)
        result: dict[str, Any] = {}
        for key in keys[:MAX_METRICS]:
            metric = found[key]
            points = [
                {"timestamp": p.timestamp, "value": p.value}
                for p in metric.points
                if (window.start is None or p.timestamp >= window.start)
                and (window.end is None or p.timestamp <= window.end)
            ]
            result[key] = {"type": metric.metric_type, "data": points}
        return result, len(keys) > MAX_METRICS

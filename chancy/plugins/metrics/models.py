"""The Metrics plugin's table: one row per metric key, resolution and time bucket.

Rows are aggregates, merged on write: every worker adds its counts and sums to the
bucket's row, so reading a metric never has to combine per-worker copies. ``key`` uses
the "C" collation so ``key LIKE 'queue:default:%'`` can walk the primary key index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from chancy.db.models import (
    TZ,
    PluginModels,
    Prefixed,
    per_prefix,
    table_prefix,
)

__all__ = ["MetricsModels", "build_metrics_models"]


class MetricFields(Prefixed):
    __table_stem__ = "metrics"

    key: Mapped[str] = mapped_column(sa.Text(collation="C"), primary_key=True)
    #: ``1min``, ``5min``, ``1hour`` or ``1day``.
    resolution: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    #: Start of the bucket (UTC), truncated to the resolution.
    bucket: Mapped[dt.datetime] = mapped_column(TZ, primary_key=True)
    #: ``counter``, ``gauge`` or ``histogram``.
    metric_type: Mapped[str] = mapped_column(sa.String(20))
    #: Samples (histogram, gauge) or increments (counter) in the bucket.
    count: Mapped[int] = mapped_column(sa.BigInteger)
    #: Sum of the samples or increments.
    total: Mapped[float] = mapped_column(sa.Double)
    minimum: Mapped[float | None] = mapped_column(sa.Double)
    maximum: Mapped[float | None] = mapped_column(sa.Double)
    #: A gauge's most recent value.
    last: Mapped[float | None] = mapped_column(sa.Double)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        # Retention deletes old buckets per resolution.
        return (sa.Index(f"ix_{name}_expiry", "resolution", "bucket"),)


@dataclasses.dataclass(frozen=True)
class MetricsModels(PluginModels):
    Metric: type[Any]


#: The Metrics plugin's models for a prefix, mapped on the prefix's core registry.
build_metrics_models = per_prefix(MetricsModels, Metric=MetricFields)

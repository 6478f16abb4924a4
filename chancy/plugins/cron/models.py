"""The Cron plugin's table: one row per recurring schedule, keyed by the job's unique key.

``next_run`` is stored in UTC and computed in the schedule's ``timezone`` (an IANA
name), so a schedule written as "09:00 in Europe/Paris" keeps firing at 09:00 local time
across daylight-saving changes. The index on ``next_run`` serves the leader's "what is
due" scan, which otherwise reads every schedule on every poll.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from chancy.db.models import (
    TZ,
    PluginModels,
    Prefixed,
    per_prefix,
    table_prefix,
)

__all__ = ["CronModels", "build_cron_models"]

DEFAULT_TIMEZONE = "Etc/UTC"


class CronFields(Prefixed):
    __table_stem__ = "cron"

    #: The schedule's key; also the ``unique_key`` of every job it pushes, so a run is
    #: skipped while the previous one is still queued or running.
    unique_key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    #: The packed :class:`~chancy.job.Job` (``Job.pack()``).
    job: Mapped[dict[str, Any]] = mapped_column(pg.JSONB)
    #: The cron expression: five fields, or six with seconds last.
    cron: Mapped[str] = mapped_column(sa.Text)
    last_run: Mapped[dt.datetime | None] = mapped_column(TZ)
    next_run: Mapped[dt.datetime] = mapped_column(TZ)
    #: The IANA zone the expression is read in.
    timezone: Mapped[str] = mapped_column(sa.Text, server_default=DEFAULT_TIMEZONE)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        return (sa.Index(f"ix_{name}_next_run", "next_run"),)


@dataclasses.dataclass(frozen=True)
class CronModels(PluginModels):
    Cron: type[Any]


#: The Cron plugin's models for a prefix, mapped on the prefix's core registry.
build_cron_models = per_prefix(CronModels, Cron=CronFields)

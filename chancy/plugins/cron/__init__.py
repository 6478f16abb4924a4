"""Recurring jobs on cron schedules (``pip install chancy[cron]``); see :class:`Cron`."""

from __future__ import annotations

from chancy.plugins.cron.plugin import Cron, CronSchedule
from chancy.plugins.cron.timing import is_fixed_time, next_fire

__all__ = ["Cron", "CronSchedule", "is_fixed_time", "next_fire"]

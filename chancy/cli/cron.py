"""``chancy cron``: the Cron plugin's schedules."""

from __future__ import annotations

from typing import Any

import click

from chancy.app import Chancy
from chancy.cli.common import json_option, require_branch, run_app
from chancy.cli.output import Column, ago, emit_listing

__all__ = ["cron"]

CRON_COLUMNS = [
    Column("unique_key", "Key"),
    Column("cron", "Schedule"),
    Column("timezone", "Zone"),
    Column("func", "Function"),
    Column("queue", "Queue"),
    Column("last_run", "Last run", ago),
    Column("next_run", "Next run", ago),
]


@click.group()
def cron() -> None:
    """Cron schedules (the Cron plugin, `pip install chancy[cron]`)."""


@cron.command("list")
@json_option
@run_app
async def list_schedules(app: Chancy, as_json: bool) -> None:
    """List every cron schedule with its last and next run."""
    try:
        from chancy.plugins.cron import Cron
    except ImportError as exc:
        raise click.ClickException(str(exc)) from exc
    await require_branch(app, "cron", "Cron")
    schedules = await Cron.get_schedules(app)
    records: list[dict[str, Any]] = []
    for key in sorted(schedules):
        schedule = schedules[key]
        job = schedule["job"]
        records.append(
            {
                "unique_key": key,
                "cron": schedule["cron"],
                "timezone": schedule["timezone"],
                "func": job.func,
                "queue": job.queue,
                "kwargs": job.kwargs,
                "last_run": schedule["last_run"],
                "next_run": schedule["next_run"],
            }
        )
    emit_listing(records, CRON_COLUMNS, as_json=as_json, empty="No cron schedules.")

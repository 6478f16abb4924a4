"""``chancy queue``: declare, list, pause, resume, delete and inspect queues.

``queue push`` lives in :mod:`chancy.cli.push`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from chancy.app import Chancy
from chancy.cli.common import branch_migrated, json_option, run_app
from chancy.cli.output import Column, emit_listing, emit_record, seconds
from chancy.cli.push import push
from chancy.db.statements import queues as queues_sql
from chancy.job import QueuedJob
from chancy.plugins.metrics import Metrics
from chancy.queue import Queue

__all__ = ["queue"]

#: Minutes of Metrics buckets averaged into ``queue stats``'s throughput.
THROUGHPUT_MINUTES = 5

QUEUE_COLUMNS = [
    Column("name", "Name"),
    Column("state", "State"),
    Column("concurrency", "Concurrency", lambda v: "executor default" if v is None else str(v)),
    Column("executor", "Executor", lambda v: str(v).rsplit(".", 1)[-1]),
    Column("tags", "Tags"),
    Column("polling_interval", "Poll (s)"),
    Column("rate_limit", "Rate limit"),
    Column("rate_limit_window", "Window (s)"),
    Column("resume_at", "Resume at"),
]


@click.group()
def queue() -> None:
    """Declare, list, pause, resume and delete queues; push jobs; queue statistics."""


queue.add_command(push)


@queue.command("list")
@json_option
@run_app
async def list_queues(app: Chancy, as_json: bool) -> None:
    """List every declared queue and its settings."""
    records = [q.pack() for q in await app.get_all_queues()]
    emit_listing(records, QUEUE_COLUMNS, as_json=as_json, empty="No queues declared.")


@queue.command()
@click.argument("name")
@click.option(
    "--concurrency", "-c", type=int, default=1, show_default=True, help="Jobs at once per worker."
)
@click.option(
    "--executor",
    "-e",
    default=Chancy.Executor.Process.value,
    show_default=True,
    help="Executor import path, or one of Process, Threaded, Async, SubInterpreter.",
)
@click.option(
    "--rate-limit", "-r", type=int, default=None, help="Jobs per window, across all workers."
)
@click.option(
    "--rate-limit-window", "-w", type=int, default=None, help="The rate limit's window, seconds."
)
@click.option(
    "--polling-interval",
    "-p",
    type=float,
    default=5,
    show_default=True,
    help="Seconds between polls when no notification arrives.",
)
@click.option(
    "--tags", "-t", multiple=True, help="Regex of worker tags that serve it (repeatable; .*)."
)
@click.option("--upsert", is_flag=True, help="Overwrite the settings if the queue exists.")
@json_option
@run_app
async def declare(
    app: Chancy,
    name: str,
    concurrency: int,
    executor: str,
    rate_limit: int | None,
    rate_limit_window: int | None,
    polling_interval: float,
    tags: tuple[str, ...],
    upsert: bool,
    as_json: bool,
) -> None:
    """Declare queue NAME (left unchanged if it exists, unless --upsert)."""
    executor = getattr(Chancy.Executor, executor, executor)
    stored = await app.declare(
        Queue(
            name,
            concurrency=concurrency,
            executor=str(executor),
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            polling_interval=polling_interval,
            tags=set(tags) or {".*"},
        ),
        upsert=upsert,
    )
    emit_record(stored.pack(), QUEUE_COLUMNS, as_json=as_json, title=f"Queue {name}")


async def _require(app: Chancy, name: str) -> None:
    """A missing queue is an error: acting on a typo must not look like success."""
    await app.get_queue(name)


@queue.command()
@click.argument("name")
@click.option("--keep-jobs", is_flag=True, help="Leave the queue's jobs in the table.")
@click.confirmation_option(prompt="Delete the queue (and its jobs)?", help="Do not ask.")
@run_app
async def delete(app: Chancy, name: str, keep_jobs: bool) -> None:
    """Delete queue NAME and, unless --keep-jobs, its jobs."""
    await _require(app, name)
    await app.delete_queue(name, purge_jobs=not keep_jobs)
    click.echo(f"Deleted queue {name!r}.")


@queue.command()
@click.argument("name")
@click.option(
    "--for-seconds", type=float, default=None, help="Resume automatically after this many seconds."
)
@run_app
async def pause(app: Chancy, name: str, for_seconds: float | None) -> None:
    """Pause queue NAME: workers stop claiming its jobs (running ones finish)."""
    await _require(app, name)
    resume_at = dt.timedelta(seconds=for_seconds) if for_seconds else None
    await app.pause_queue(name, resume_at=resume_at)
    click.echo(f"Paused queue {name!r}" + (f" for {for_seconds:g} s." if for_seconds else "."))


@queue.command()
@click.argument("name")
@run_app
async def resume(app: Chancy, name: str) -> None:
    """Resume paused queue NAME."""
    await _require(app, name)
    await app.resume_queue(name)
    click.echo(f"Resumed queue {name!r}.")


STATS_COLUMNS = [
    Column("queue", "Queue"),
    Column("state", "State"),
    *(Column(s.value, s.value.capitalize()) for s in QueuedJob.State),
    Column("oldest_ready_seconds", "Oldest ready", seconds),
    Column(
        "throughput_per_minute",
        f"Throughput/min ({THROUGHPUT_MINUTES}m)",
        lambda v: "" if v is None else f"{v:.1f}",
    ),
]


async def throughput(app: Chancy) -> dict[str, float] | None:
    """Job runs ended per minute by queue, averaged over the last minutes of the Metrics
    plugin's ``queue:<name>:throughput`` counters; None when its tables are not migrated."""
    if not await branch_migrated(app, "metrics"):
        return None
    plugin = app.plugins.get(Metrics.get_identifier())
    reader = plugin if isinstance(plugin, Metrics) else Metrics()
    found = await reader.get_metrics(
        app, key_prefix="queue", resolution="1min", limit=THROUGHPUT_MINUTES
    )
    rates: dict[str, float] = {}
    for key, metric in found.items():
        if key.endswith(":throughput"):
            name = key[len("queue:") : -len(":throughput")]
            rates[name] = sum(p.total for p in metric.points) / THROUGHPUT_MINUTES
    return rates


@queue.command()
@json_option
@run_app
async def stats(app: Chancy, as_json: bool) -> None:
    """Jobs per queue and state, how long the oldest ready job has waited, and throughput
    (from the Metrics plugin's tables, when migrated).

    Queues holding jobs that were never declared show as `undeclared`: no worker runs them.
    """
    declared = {q.name: q for q in await app.get_all_queues()}
    async with app.engine.connect() as conn:
        rows = (await conn.execute(queues_sql.build_job_counts(app.models))).all()
    rates = await throughput(app)
    records: dict[str, dict[str, Any]] = {
        name: {"queue": name, "state": q.state.value} for name, q in declared.items()
    }
    for row in rows:
        record = records.setdefault(row.queue, {"queue": row.queue, "state": "undeclared"})
        record[row.state] = row.jobs
        if row.oldest_ready_seconds is not None:
            oldest = max(float(row.oldest_ready_seconds), record.get("oldest_ready_seconds") or 0)
            record["oldest_ready_seconds"] = oldest
    for record in records.values():
        for state in QueuedJob.State:
            record.setdefault(state.value, 0)
        record.setdefault("oldest_ready_seconds", None)
        record["throughput_per_minute"] = None if rates is None else rates.get(record["queue"], 0.0)
    listing = sorted(records.values(), key=lambda r: r["queue"])
    emit_listing(listing, STATS_COLUMNS, as_json=as_json, empty="No queues and no jobs.")

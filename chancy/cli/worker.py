"""``chancy worker``: run a worker, and list the workers of the cluster."""

from __future__ import annotations

import click

from chancy.app import Chancy
from chancy.cli.common import json_option, run_app
from chancy.cli.output import Column, ago, emit_listing
from chancy.cli.web import web
from chancy.worker import Worker

__all__ = ["worker"]

WORKER_COLUMNS = [
    Column("worker_id", "Worker"),
    Column("is_leader", "Leader"),
    Column("queues", "Queues"),
    Column("tags", "Tags"),
    Column("last_seen", "Last seen", ago),
    Column("expires_at", "Expires", ago),
]


@click.group()
def worker() -> None:
    """Run workers, list them, and serve the API and dashboard (`worker web`)."""


worker.add_command(web)


@worker.command()
@click.option("--worker-id", "-w", default=None, help="This worker's id (default: random).")
@click.option("--tags", "-t", multiple=True, help="Extra worker tags, matched by queues' tags.")
@click.option("--queue", "-q", "queues", multiple=True, help="Serve only these queues.")
@click.option(
    "--concurrency", "-c", type=int, default=None, help="Slots per served queue (overrides it)."
)
@click.option(
    "--shutdown-timeout",
    type=float,
    default=30,
    show_default=True,
    help="Seconds running jobs get to finish on SIGTERM before they are requeued.",
)
@run_app
async def start(
    app: Chancy,
    worker_id: str | None,
    tags: tuple[str, ...],
    queues: tuple[str, ...],
    concurrency: int | None,
    shutdown_timeout: float,
) -> None:
    """Start a worker; SIGTERM or Ctrl-C stops it gracefully (twice: at once)."""
    async with Worker(
        app,
        worker_id=worker_id,
        tags=set(tags),
        queues=set(queues) or None,
        concurrency=concurrency,
        shutdown_timeout=shutdown_timeout,
    ) as running:
        await running.wait_for_shutdown()


@worker.command("list")
@json_option
@run_app
async def list_workers(app: Chancy, as_json: bool) -> None:
    """List the workers that have sent a heartbeat recently, and which one leads."""
    records = await app.get_all_workers()
    emit_listing(records, WORKER_COLUMNS, as_json=as_json, empty="No workers running.")

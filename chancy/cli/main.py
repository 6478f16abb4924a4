"""The ``chancy`` command: one group per concern, each in its own module.

Every command except ``bench`` needs ``--app module:attr`` (or ``module.attr``, or the
``CHANCY_APP`` variable) naming a :class:`~chancy.Chancy` instance, or a zero-argument
callable returning one.
"""

from __future__ import annotations

import logging

import click

from chancy.app import setup_default_logger
from chancy.cli.bench import bench
from chancy.cli.common import APP_ENVVAR, CliState
from chancy.cli.cron import cron
from chancy.cli.job import job
from chancy.cli.misc import misc
from chancy.cli.queue import queue
from chancy.cli.worker import worker
from chancy.cli.workflow import workflow

__all__ = ["cli", "main"]


@click.group()
@click.option(
    "--app",
    "-a",
    envvar=APP_ENVVAR,
    show_envvar=True,
    help="The Chancy app, as module:attr (an instance, or a function returning one).",
)
@click.option(
    "--traceback",
    is_flag=True,
    help="Show the full traceback of an error instead of one line (for bug reports).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="CHANCY_LOG_FORMAT",
    show_envvar=True,
    help="chancy's log lines on stderr: text, or one JSON object per line with the "
    "structured fields (job_id, queue, func, worker_id).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="The lowest level of chancy's log lines that is shown.",
)
@click.version_option(None, "--version", "-V", package_name="chancy", prog_name="chancy")
@click.pass_context
def cli(
    ctx: click.Context, app: str | None, traceback: bool, log_format: str, log_level: str
) -> None:
    """chancy: a Postgres job queue.

    Start with `chancy --app myapp:chancy misc migrate`, then `queue declare default`,
    `queue push myapp.jobs.hello` and `worker start`.
    """
    setup_default_logger(getattr(logging, log_level.upper()), fmt=log_format)  # type: ignore[arg-type]
    ctx.obj = CliState(app_path=app, traceback=traceback)


for group in (misc, queue, job, worker, cron, workflow, bench):
    cli.add_command(group)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

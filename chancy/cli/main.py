"""The ``chancy`` command: migrations, queues, workers and the benchmark.

Every command except ``bench`` needs ``--app module:attr`` (or ``module.attr``) naming a
:class:`~chancy.Chancy` instance, or a zero-argument callable returning one.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from chancy.app import Chancy
from chancy.errors import ChancyError, MigrationsNeededError
from chancy.job import Job
from chancy.queue import Queue
from chancy.utils import import_string
from chancy.worker import Worker


def load_app(path: str) -> Chancy:
    """Import ``module:attr`` (or ``module.attr``); call it if it is a factory."""
    sys.path.insert(0, "")
    dotted = path.replace(":", ".")
    try:
        target = import_string(dotted)
    except ImportError as exc:
        raise click.BadParameter(f"Cannot import {path!r}: {exc}", param_hint="--app") from exc
    app = target if isinstance(target, Chancy) else target() if callable(target) else None
    if not isinstance(app, Chancy):
        raise click.BadParameter(
            f"{path!r} is not a Chancy app or a function returning one.", param_hint="--app"
        )
    return app


def run_app(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Run an async command with the app open, turning chancy errors into clean exits."""

    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        app_path = ctx.find_root().params.get("app")
        if not app_path:
            raise click.UsageError("This command needs --app module:attr.")
        app = load_app(app_path)

        async def main() -> Any:
            async with app:
                return await func(app, *args, **kwargs)

        try:
            return asyncio.run(main())
        except MigrationsNeededError as exc:
            raise click.ClickException(
                f"{exc}\nCheck with: chancy --app {app_path} misc check-migrations"
            ) from exc
        except (ChancyError, KeyError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.group()
@click.option("--app", "-a", help="The Chancy app, as module:attr.", envvar="CHANCY_APP")
def cli(app: str | None) -> None:
    """chancy: a Postgres job queue."""


# -- misc ------------------------------------------------------------------------------
@cli.group()
def misc() -> None:
    """Migrations and maintenance."""


@misc.command()
@click.option("--to-version", "-t", type=int, default=None, help="Core version (0 removes all).")
@click.option("--plugin", "-p", default=None, help="Migrate only this plugin's branch.")
@click.option("--remove", is_flag=True, help="With --plugin: drop that plugin's tables.")
@run_app
async def migrate(app: Chancy, to_version: int | None, plugin: str | None, remove: bool) -> None:
    """Bring the schema up to date (core and every enabled plugin)."""
    if plugin:
        await app.migrate_plugin(plugin, remove=remove)
    else:
        await app.migrate(to_version=to_version)
    click.echo(f"Migrated. Current revisions: {', '.join(await app.current_revisions()) or 'none'}")


@misc.command("check-migrations")
@run_app
async def check_migrations(app: Chancy) -> None:
    """Show the recorded revisions and whether the schema is up to date."""
    current = await app.current_revisions()
    up_to_date = await app.is_up_to_date()
    click.echo(f"Prefix: {app.prefix}")
    click.echo(f"Recorded heads: {', '.join(current) or 'none (not migrated)'}")
    revisions = app.migrator.core_revisions()
    click.echo(f"Core versions: {', '.join(f'{i}={r}' for i, r in enumerate(revisions, 1))}")
    click.echo(f"Enabled plugin branches: {', '.join(app.plugin_branches()) or 'none'}")
    click.echo("Up to date: " + ("yes" if up_to_date else "no - run `chancy misc migrate`"))
    if not up_to_date:
        raise SystemExit(1)


# -- queues ----------------------------------------------------------------------------
@cli.group()
def queue() -> None:
    """Declare, list, pause, resume and delete queues; push jobs."""


@queue.command("list")
@run_app
async def list_queues(app: Chancy) -> None:
    """List every declared queue."""
    for q in await app.get_all_queues():
        click.echo(json.dumps(q.pack(), default=str))


@queue.command()
@click.argument("name")
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
@click.option("--executor", "-e", default=Chancy.Executor.Process.value, show_default=True)
@click.option("--rate-limit", "-r", type=int, default=None)
@click.option("--rate-limit-window", "-w", type=int, default=None)
@click.option("--polling-interval", "-p", type=float, default=5, show_default=True)
@click.option("--tags", "-t", multiple=True, help="Worker tag regexes (default .*).")
@click.option("--upsert", is_flag=True, help="Overwrite the queue if it exists.")
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
) -> None:
    """Declare a queue (unchanged if it exists, unless --upsert)."""
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
    click.echo(json.dumps(stored.pack(), default=str))


@queue.command()
@click.argument("name")
@click.option("--keep-jobs", is_flag=True, help="Leave the queue's jobs in the table.")
@click.confirmation_option(prompt="Delete the queue (and its jobs)?")
@run_app
async def delete(app: Chancy, name: str, keep_jobs: bool) -> None:
    """Delete a queue and, unless --keep-jobs, its jobs."""
    await app.delete_queue(name, purge_jobs=not keep_jobs)
    click.echo(f"Deleted queue {name!r}.")


@queue.command()
@click.argument("name")
@click.option("--for-seconds", type=float, default=None, help="Resume automatically after this.")
@run_app
async def pause(app: Chancy, name: str, for_seconds: float | None) -> None:
    """Pause a queue: workers stop claiming its jobs."""
    import datetime as dt

    resume_at = dt.timedelta(seconds=for_seconds) if for_seconds else None
    count = await app.pause_queue(name, resume_at=resume_at)
    click.echo(f"Paused {count} queue(s).")


@queue.command()
@click.argument("name")
@run_app
async def resume(app: Chancy, name: str) -> None:
    """Resume a paused queue."""
    count = await app.resume_queue(name)
    click.echo(f"Resumed {count} queue(s).")


@queue.command()
@click.argument("func")
@click.option("--queue", "-q", "queue_name", default="default", show_default=True)
@click.option("--priority", "-p", type=int, default=0, show_default=True)
@click.option("--unique-key", "-u", default=None)
@click.option("--max-attempts", "-m", type=int, default=1, show_default=True)
@click.option("--kwargs", "-k", default=None, help="Keyword arguments as a JSON object.")
@run_app
async def push(
    app: Chancy,
    func: str,
    queue_name: str,
    priority: int,
    unique_key: str | None,
    max_attempts: int,
    kwargs: str | None,
) -> None:
    """Push a job calling FUNC (a dotted import path)."""
    try:
        arguments = json.loads(kwargs) if kwargs else {}
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"--kwargs is not valid JSON: {exc}") from exc
    if not isinstance(arguments, dict):
        raise click.BadParameter('--kwargs must be a JSON object, e.g. \'{"name": "x"}\'.')
    ref = await app.push(
        Job(
            func=func,
            queue=queue_name,
            priority=priority,
            unique_key=unique_key,
            max_attempts=max_attempts,
            kwargs=arguments,
        )
    )
    click.echo(str(ref.identifier))


# -- worker ----------------------------------------------------------------------------
@cli.group()
def worker() -> None:
    """Run workers."""


@worker.command()
@click.option("--worker-id", "-w", default=None)
@click.option("--tags", "-t", multiple=True, help="Extra worker tags.")
@click.option("--queue", "-q", "queues", multiple=True, help="Serve only these queues.")
@click.option("--concurrency", "-c", type=int, default=None, help="Slots per served queue.")
@click.option("--shutdown-timeout", type=float, default=30, show_default=True)
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
        app.log.info("Worker %s started.", running.worker_id)
        await running.wait_for_shutdown()


# -- bench -----------------------------------------------------------------------------
@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Run the benchmark suite; every argument goes to it (`chancy bench --help`)."""
    from chancy.bench import main as bench_main

    raise SystemExit(bench_main(list(ctx.args)))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

"""``chancy misc``: migrations, the migration check and an interactive shell."""

from __future__ import annotations

import ast
import asyncio
import code
import inspect
import sys
import types
from typing import Any

import click
from sqlalchemy.engine import Connection

from chancy.app import Chancy
from chancy.cli.common import CliState, app_from, guarded, run_app
from chancy.cli.output import progress_bar
from chancy.migrations import CORE_BRANCH, Migrator

__all__ = ["misc", "resolve_plugin_branch"]

#: Class names of the bundled plugins that have tables, lower-cased, by branch: upstream's
#: ``misc migrate --plugin`` takes the class name, so these work even when the app
#: has not enabled the plugin.
BUNDLED_PLUGIN_BRANCHES = {
    "cron": "cron",
    "metrics": "metrics",
    "workflowplugin": "workflow",
    "trigger": "trigger",
}


@click.group()
def misc() -> None:
    """Migrations and maintenance."""


def resolve_plugin_branch(app: Chancy, name: str) -> str:
    """The migration branch ``name`` means: a plugin class name (any case) or a branch."""
    wanted = name.strip().lower()
    matches = {
        p.migrations_branch
        for p in app.plugins.values()
        if getattr(p, "migrations_branch", None) and type(p).__name__.lower() == wanted
    }
    if not matches and wanted in BUNDLED_PLUGIN_BRANCHES:
        matches = {BUNDLED_PLUGIN_BRANCHES[wanted]}
    branches = [b for b in app.migrator.branches() if b != CORE_BRANCH]
    if not matches and wanted in branches:
        matches = {wanted}
    if not matches:
        raise click.ClickException(
            f"No plugin found with name {name!r}: use a plugin class name "
            f"({', '.join(sorted(BUNDLED_PLUGIN_BRANCHES))}) or a branch "
            f"({', '.join(branches)})."
        )
    if len(matches) > 1:
        raise click.ClickException(
            f"Multiple plugins found with name {name!r} (branches {sorted(matches)}); "
            "pass the branch name instead."
        )
    return matches.pop()


def pending_revisions(conn: Connection, migrator: Migrator, branches: list[str]) -> list[str]:
    """The revisions ``Chancy.migrate()`` would apply, in order: core, then each branch."""
    applied = migrator.applied(conn)
    script = migrator.script
    plan: list[str] = []
    for branch in [CORE_BRANCH, *branches]:
        for rev in reversed(list(script.iterate_revisions(f"{branch}@head", "base"))):
            if rev.revision not in applied and rev.revision not in plan:
                plan.append(rev.revision)
    return plan


async def _migrate_stepwise(app: Chancy) -> int:
    """Bring core and the app's plugin branches to their heads one revision at a time, in
    one transaction (as ``Chancy.migrate()``), so a progress bar can follow the steps."""
    async with app.engine.begin() as conn:
        plan = await conn.run_sync(pending_revisions, app.migrator, app.plugin_branches())
        with progress_bar(len(plan), "Migrating") as bar:
            for revision in plan:
                await conn.run_sync(app.migrator.upgrade, revision)
                bar.advance(1)
    return len(plan)


@misc.command()
@click.option(
    "--to-version",
    "-t",
    type=click.IntRange(min=0),
    default=None,
    help="Move the core schema up or down to this version (0 removes every chancy table "
    "of the prefix). `misc check-migrations` lists the versions.",
)
@click.option(
    "--plugin",
    "-p",
    default=None,
    help="Migrate only this plugin: its class name as upstream spells it (cron, metrics, "
    "workflowplugin; any case) or its branch name (cron, metrics, workflow, trigger).",
)
@click.option(
    "--remove", is_flag=True, help="With --plugin: drop that plugin's tables and their data."
)
@run_app
async def migrate(app: Chancy, to_version: int | None, plugin: str | None, remove: bool) -> None:
    """Bring the schema up to date: core and every plugin the app enables.

    Safe to run while workers run and from several machines at once (they take turns).
    """
    if remove and not plugin:
        raise click.UsageError(
            "--remove needs --plugin NAME (it drops one plugin's tables); "
            "to remove every chancy table use --to-version 0."
        )
    if plugin and to_version is not None:
        raise click.UsageError("--plugin and --to-version cannot be combined.")
    if plugin:
        branch = resolve_plugin_branch(app, plugin)
        await app.migrate_plugin(branch, remove=remove)
        click.echo(f"{'Removed' if remove else 'Migrated'} plugin branch {branch!r}.")
    elif to_version is not None:
        await app.migrate(to_version=to_version)
    else:
        steps = await _migrate_stepwise(app)
        click.echo(f"Applied {steps} migration(s).")
    click.echo(f"Current revisions: {', '.join(await app.current_revisions()) or 'none'}")


@misc.command("check-migrations")
@run_app
async def check_migrations(app: Chancy) -> None:
    """Show the recorded revisions and whether the schema is up to date (exit 1 if not)."""
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


class AwaitingConsole(code.InteractiveConsole):
    """``code.interact`` with top-level ``await``, run on one loop kept for the session
    (the app's pooled connections belong to the loop that opened them)."""

    def __init__(self, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(namespace)
        self.loop = loop
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

    def runcode(self, codeobj: types.CodeType) -> None:
        try:
            result = types.FunctionType(codeobj, self.locals)()
            if inspect.iscoroutine(result):
                self.loop.run_until_complete(result)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def app_module(path: str) -> types.ModuleType | None:
    """The (already imported) module that ``--app`` points into."""
    parts = path.replace(":", ".").split(".")
    for end in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None:
            return module
    return None


def shell_namespace(app: Chancy, app_path: str) -> dict[str, Any]:
    """The app module's public names, upstream's shell names, and ``chancy`` (the app)."""
    from chancy.job import Job, Limit, QueuedJob, Reference
    from chancy.queue import Queue
    from chancy.worker import Worker

    module = app_module(app_path)
    namespace = {k: v for k, v in vars(module).items() if not k.startswith("_")} if module else {}
    namespace.update(
        chancy=app,
        Worker=Worker,
        Job=Job,
        QueuedJob=QueuedJob,
        Limit=Limit,
        Reference=Reference,
        Queue=Queue,
        asyncio=asyncio,
    )
    return namespace


BANNER = (
    "chancy shell: `chancy` is your app; Job, QueuedJob, Queue, Reference, Limit, Worker "
    "and your app module's names are loaded. Top-level `await` works, e.g. "
    "`await chancy.get_all_queues()`."
)


@misc.command()
@click.option(
    "--plain", is_flag=True, help="Use the standard Python console even if IPython is installed."
)
@click.pass_context
def shell(ctx: click.Context, plain: bool) -> None:
    """Open an interactive Python shell with the app loaded (IPython if installed)."""
    app = app_from(ctx)
    namespace = shell_namespace(app, ctx.ensure_object(CliState).app_path or "")
    if not plain:
        try:
            import IPython
        except ImportError:
            pass
        else:
            IPython.start_ipython(argv=[], user_ns=namespace, display_banner=False)
            return
    loop = asyncio.new_event_loop()
    try:
        AwaitingConsole(namespace, loop).interact(banner=BANNER, exitmsg="")
    finally:
        with guarded(ctx):
            loop.run_until_complete(app.__aexit__(None, None, None))
        loop.close()

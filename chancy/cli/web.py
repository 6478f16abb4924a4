"""``chancy --app X worker web``: serve the API and dashboard without running any job.

It builds a worker that is never started (so it claims nothing and is not registered),
listens for notifications on its behalf (the live event page needs them), and serves the
app's :class:`~chancy.plugins.api.Api`. Without a configured Api it makes one with the
user ``admin`` and a generated password, printed once. The lead registers this command
in the ``worker`` group.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from typing import Any

import click
from click.core import ParameterSource

from chancy.app import Chancy
from chancy.cli.common import load_app
from chancy.db.listener import Listener
from chancy.errors import ConfigurationError, MigrationsNeededError
from chancy.worker import Worker

__all__ = ["prepare_api", "serve_web", "web"]

#: The options that, when given explicitly, override a configured Api's settings.
OVERRIDABLE = ("host", "port", "allow_origins", "debug")


def prepare_api(
    app: Chancy, settings: dict[str, Any], explicit: set[str]
) -> tuple[Any, str | None]:
    """The app's Api with explicitly passed options applied, or a new one.

    Returns the Api and, when one had to be made, its generated admin password.
    """
    from chancy.plugins.api import Api, SimpleAuthBackend

    api = app.plugins.get("chancy.api")
    if api is not None:
        for name in explicit & set(OVERRIDABLE):
            setattr(api, name, list(settings[name]) if name == "allow_origins" else settings[name])
        return api, None
    password = secrets.token_urlsafe(18)
    api = Api(
        host=settings["host"],
        port=settings["port"],
        debug=settings["debug"],
        allow_origins=list(settings["allow_origins"]),
        authentication_backend=SimpleAuthBackend({"admin": password}),
    )
    app.plugins[api.get_identifier()] = api
    return api, password


async def _check_schema(app: Chancy) -> None:
    """Core and plugin tables must be migrated; the Api's own small table is created here.

    The token revocation table belongs to the Api, which ``worker web`` may have just
    made up, so its branch is migrated rather than refusing to start.
    """
    others = [b for b in app.plugin_branches() if b != "api"]
    async with app.engine.connect() as conn:
        ready = await conn.run_sync(app.migrator.is_up_to_date, others)
    if not ready:
        raise MigrationsNeededError(app.prefix)
    if not await app.is_up_to_date():
        app.log.info("Creating the API's token revocation table (Alembic branch 'api').")
        await app.migrate_plugin("api")


async def serve_web(app: Chancy, api: Any, *, stop: asyncio.Event) -> None:
    """Serve ``api`` for ``app`` until ``stop`` is set."""
    await _check_schema(app)
    worker = Worker(app, tags=set(), register_signal_handlers=False)
    tasks: list[asyncio.Task[Any]] = []
    try:
        if app.notifications:
            listener = Listener(app.conninfo, app.models.channel, worker.hub.emit, log=app.log)
            tasks.append(asyncio.create_task(listener.run(), name="chancy:web:listener"))
        server = asyncio.create_task(api.run(worker, app), name="chancy:web:api")
        tasks.append(server)
        waiter = asyncio.create_task(api.serving.wait())
        await asyncio.wait({waiter, server}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if server.done():
            server.result()  # the server could not start: raise why
        click.echo(f"Serving the API and dashboard at http://{api.host}:{api.port}/", err=True)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, server}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if server.done():
            server.result()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await worker.engine.dispose()


def _load_app(ctx: click.Context) -> tuple[Chancy, str]:
    """The ``--app`` of this invocation (kept in ``ctx.obj`` or in the root's params)."""
    root = ctx.find_root()
    path = getattr(root.obj, "app_path", None) or root.params.get("app")
    if not path:
        raise click.UsageError("This command needs --app module:attr.")
    return load_app(path), path


@click.command()
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", "-p", type=int, default=8000, show_default=True, help="0 picks a free port."
)
@click.option("--debug", "-d", is_flag=True, help="Starlette debug mode and uvicorn debug logs.")
@click.option(
    "--allow-origin",
    "-o",
    "allow_origins",
    multiple=True,
    help="Allow cross-origin requests from this origin (repeatable).",
)
@click.pass_context
def web(
    ctx: click.Context, host: str, port: int, debug: bool, allow_origins: tuple[str, ...]
) -> None:
    """Serve the API and dashboard (no jobs run here). Ctrl-C or SIGTERM stops it.

    Options given here override a configured Api's; without one, a user ``admin`` with a
    generated password (printed once) is created.
    """
    try:
        import chancy.plugins.api  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(
            f"The web extra is not installed ({exc}): pip install 'chancy[web]'."
        ) from exc
    app, path = _load_app(ctx)
    settings = {"host": host, "port": port, "debug": debug, "allow_origins": allow_origins}
    explicit = {
        name for name in settings if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }
    try:
        api, password = prepare_api(app, settings, explicit)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    if password is not None:
        click.secho(
            "Warning: no Api plugin is configured, so this one has a single user: "
            f"admin / {password}  (shown once; configure Api(...) to choose users).",
            err=True,
            fg="yellow",
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        async with app:
            await serve_web(app, api, stop=stop)

    try:
        asyncio.run(main())
    except MigrationsNeededError as exc:
        raise click.ClickException(
            f"{exc}\nCheck with: chancy --app {path} misc check-migrations"
        ) from exc
    except OSError as exc:
        raise click.ClickException(f"Cannot serve on {api.host}:{api.port}: {exc}") from exc

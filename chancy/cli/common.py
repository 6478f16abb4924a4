"""What every command shares: loading ``--app``, running against it, and turning errors
into one clear line.

An operator running ``chancy`` against a down database or a mistyped app path needs the
cause in one line and exit code 1, not forty lines of traceback; ``--traceback`` brings
the traceback back for bug reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import click
import psycopg
import sqlalchemy.exc

from chancy.app import Chancy
from chancy.errors import ChancyError, MigrationsNeededError
from chancy.job import Reference
from chancy.utils import import_string

__all__ = [
    "APP_ENVVAR",
    "JOB_ID",
    "WORKFLOW_ID",
    "CliState",
    "app_from",
    "branch_migrated",
    "guarded",
    "json_option",
    "load_app",
    "one_line",
    "require_branch",
    "run_app",
]

#: The environment variable that supplies ``--app``.
APP_ENVVAR = "CHANCY_APP"


@dataclasses.dataclass
class CliState:
    """Root options, shared with every subcommand through ``ctx.obj``."""

    app_path: str | None = None
    traceback: bool = False


def one_line(exc: BaseException) -> str:
    """The first line of an error's message (drivers append SQL and hints below it)."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, KeyError) and exc.args:
        message = str(exc.args[0])
    else:
        message = str(exc).strip()
    first = message.splitlines()[0].strip() if message else ""
    return first or type(exc).__name__


def load_app(path: str) -> Chancy:
    """Import ``module:attr`` (or ``module.attr``); call it if it is a factory.

    The current directory is importable, as for ``python -m``; any failure while
    importing the module (including a missing module it imports) is one line naming it.
    """
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        target = import_string(path.replace(":", "."))
        app = target() if callable(target) and not isinstance(target, Chancy) else target
    except ImportError as exc:
        raise click.ClickException(f"Cannot import the app {path!r}: {one_line(exc)}") from exc
    except Exception as exc:
        raise click.ClickException(
            f"Loading the app {path!r} failed: {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    if not isinstance(app, Chancy):
        raise click.ClickException(
            f"{path!r} is not a Chancy app or a function returning one (got {type(app).__name__})."
        )
    return app


def _explain(exc: BaseException, app_path: str) -> str | None:
    """The one line for an error an operator can fix, or None for a bug."""
    migrate = f"run `chancy --app {app_path} misc migrate`"
    if isinstance(exc, MigrationsNeededError):
        return one_line(exc)
    if isinstance(exc, ChancyError | KeyError | TimeoutError):
        return one_line(exc)
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        if isinstance(exc.orig, psycopg.errors.UndefinedTable):
            return f"The chancy tables are missing ({one_line(exc)}): {migrate}."
        if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
            return f"Cannot reach the database: {one_line(exc)}"
        return f"Database error: {one_line(exc)}"
    if isinstance(exc, psycopg.OperationalError):
        return f"Cannot reach the database: {one_line(exc)}"
    if isinstance(exc, psycopg.Error | sqlalchemy.exc.SQLAlchemyError):
        return f"Database error: {one_line(exc)}"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {one_line(exc)}"
    return None


@contextlib.contextmanager
def guarded(ctx: click.Context) -> Iterator[None]:
    """Turn configuration and database errors into ``Error: <one line>`` and exit code 1."""
    state: CliState = ctx.find_object(CliState) or CliState()
    try:
        yield
    except click.ClickException:
        raise
    except Exception as exc:
        message = _explain(exc, state.app_path or "<module:attr>")
        if message is None or state.traceback:
            raise
        raise click.ClickException(message) from exc


def app_from(ctx: click.Context) -> Chancy:
    """The ``--app`` of this invocation, loaded; a usage error when it was not given."""
    state = ctx.find_object(CliState)
    if state is None or not state.app_path:
        raise click.UsageError(f"This command needs --app module:attr (or ${APP_ENVVAR}).")
    return load_app(state.app_path)


def run_app(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Run an async command as ``func(app, **options)`` inside ``async with app``."""

    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        app = app_from(ctx)

        async def main() -> Any:
            async with app:
                return await func(app, *args, **kwargs)

        with guarded(ctx):
            return asyncio.run(main())

    return wrapper


async def branch_migrated(app: Chancy, branch: str) -> bool:
    """Whether a plugin's tables exist at their newest revision for this prefix."""
    async with app.engine.connect() as conn:
        applied = await conn.run_sync(app.migrator.applied)
    return app.migrator.script.get_revision(f"{branch}@head").revision in applied


async def require_branch(app: Chancy, branch: str, plugin: str) -> None:
    """Refuse, with the command that fixes it, to read tables that are not migrated."""
    if not await branch_migrated(app, branch):
        raise click.ClickException(
            f"The {plugin} plugin's tables are not migrated for prefix {app.prefix!r}: run "
            f"`chancy --app <module:attr> misc migrate --plugin {branch}`."
        )


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: print the full records as JSON instead of a table."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print JSON (every field) instead of a table, for scripts and jq.",
    )(func)


class IdType(click.ParamType):
    """A UUID argument (a job or workflow id), refused with a hint when malformed."""

    def __init__(self, noun: str, listing: str, wrap: Callable[[uuid.UUID], Any]) -> None:
        self.name = f"{noun.upper()}_ID"
        self.noun = noun
        self.listing = listing
        self.wrap = wrap

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, uuid.UUID | Reference):
            return value
        try:
            return self.wrap(uuid.UUID(str(value).strip()))
        except ValueError:
            self.fail(
                f"{value!r} is not a {self.noun} id: expected a UUID such as "
                f"0190b3c6-9f5e-7c3a-8b1d-2f4e6a8c0d12 (see `{self.listing}`).",
                param,
                ctx,
            )


JOB_ID = IdType("job", "chancy job list", Reference)
WORKFLOW_ID = IdType("workflow", "chancy workflow list", lambda ident: ident)

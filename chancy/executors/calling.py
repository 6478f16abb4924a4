"""Resolving and calling a job's function; importable in child processes without the rest.

Shared by every executor so a job behaves the same wherever it runs: the function is
imported by path, the running :class:`QueuedJob` is injected into a keyword-only
parameter annotated with it, and kwargs that don't fit the signature fail the job with a
message that says so.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from chancy.errors import JobImportError
from chancy.job import QueuedJob
from chancy.utils import import_string


def resolve(job: QueuedJob) -> Callable[..., Any]:
    try:
        func = _imported(job.func)
    except (ImportError, AttributeError) as exc:
        hint = (
            " Functions defined in __main__ can only run on a worker started by that same "
            "script; move the function into an importable module."
            if job.func.startswith("__main__.")
            else ""
        )
        raise JobImportError(
            f"Could not import job function {job.func!r}: {exc}. The worker imports jobs by "
            f"dotted path, so the function must be at the top level of a module on the "
            f"worker's sys.path.{hint}"
        ) from exc
    if not callable(func):
        raise JobImportError(f"{job.func!r} is not callable.")
    return func


@functools.lru_cache(maxsize=1024)
def context_parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    """Keyword-only parameters annotated with QueuedJob (or a subclass).

    Cached per function: resolving type hints is far slower than running a no-op job.
    """
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable string annotations: fall back to the raw ones
        hints = getattr(func, "__annotations__", {})
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins without a signature take no context
        return ()
    names = []
    for name, param in parameters.items():
        hint = hints.get(name)
        if (
            param.kind is inspect.Parameter.KEYWORD_ONLY
            and isinstance(hint, type)
            and issubclass(hint, QueuedJob)
        ):
            names.append(name)
    return tuple(names)


def prepare(job: QueuedJob) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The function and the kwargs to call it with, or a clear error if they don't fit."""
    func = resolve(job)
    kwargs = dict(job.kwargs or {})
    for name in context_parameters(func):
        kwargs[name] = job
    problem = _binding_problem(func, tuple(kwargs))
    if problem is not None:
        raise TypeError(
            f"Job {job.func!r} cannot be called with kwargs {sorted(job.kwargs or {})}: "
            f"{problem}. Push kwargs that match the function's keyword parameters."
        )
    return func, kwargs


#: Job functions by import path. A failed import is not cached (the next job retries it).
_imported = functools.lru_cache(maxsize=1024)(import_string)


@functools.lru_cache(maxsize=4096)
def _binding_problem(func: Callable[..., Any], names: tuple[str, ...]) -> str | None:
    """Why ``func`` can't be called with keyword arguments ``names``, or None if it can.

    Binding depends only on the names, so it is checked once per function and set of
    names rather than once per job.
    """
    try:
        inspect.signature(func).bind(**dict.fromkeys(names))
    except TypeError as exc:
        return str(exc)
    except ValueError:  # builtins without a signature: let the call decide
        pass
    return None


def is_async(func: Callable[..., Any]) -> bool:
    """Whether calling ``func`` gives a coroutine. Cached per function (it is asked twice
    per job); an unhashable callable is inspected every time."""
    try:
        return _is_async(func)
    except TypeError:
        return _inspect_async(func)


def _inspect_async(func: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


_is_async = functools.lru_cache(maxsize=1024)(_inspect_async)


def call_blocking(func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call ``func`` to completion from a thread or child process (async ones get a loop)."""
    if is_async(func):
        return asyncio.run(func(**kwargs))
    result = func(**kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def time_limit_error(seconds: float, *, interrupted: bool = True) -> TimeoutError:
    """The error a job fails with when it outlives its ``Limit(TIME)``.

    Every message starts as :meth:`QueuedJob.checkpoint`'s does, so a job that timed out
    reads the same whichever noticed first.
    """
    if interrupted:
        return TimeoutError(
            f"Job timed out. It exceeded its time limit of {seconds} seconds and was interrupted."
        )
    return TimeoutError(
        f"Job timed out. It exceeded its time limit of {seconds} seconds and was reported "
        "failed at the deadline; its thread cannot be interrupted, so the function runs "
        "on until its next checkpoint() call (or until it returns), and its result is "
        "discarded."
    )

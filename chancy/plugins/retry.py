"""RetryPlugin: retry failed jobs later, with exponential backoff and jitter.

Without it a failed job with attempts left is retried at once. With it, each retry waits
``min(backoff * backoff_factor ** (attempt - 1), backoff_limit) + uniform(*jitter)``
seconds, and a job can limit retries to certain exception types. Settings live in the
job's ``meta["retry_settings"]``, so they travel with the job; build them with
:func:`retry_settings` or :func:`with_retry`::

    from chancy.plugins.retry import RetryPlugin, with_retry

    chancy = Chancy(dsn, plugins=[RetryPlugin()])
    job = with_retry(
        Job.from_func(fetch_feed),
        max_attempts=5,
        backoff=2,
        retry_exceptions=[ConnectionError, "httpx.TimeoutException"],
    )
    await chancy.push(job)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from chancy.job import Job, QueuedJob
from chancy.plugin import Plugin
from chancy.worker.outcomes import retryable

if TYPE_CHECKING:
    from chancy.worker import Worker

__all__ = ["RetryPlugin", "retry_settings", "with_retry"]

State = QueuedJob.State

#: Defaults for any setting a job leaves out (upstream's values).
DEFAULTS: dict[str, Any] = {
    "backoff": 1,
    "backoff_factor": 2.0,
    "backoff_limit": 300,
    "backoff_jitter": [1, 5],
}


def _exception_name(exc: type[BaseException] | str) -> str:
    if isinstance(exc, str):
        if not exc:
            raise ValueError("An exception name in retry_exceptions is empty.")
        return exc
    if isinstance(exc, type) and issubclass(exc, BaseException):
        return f"{exc.__module__}.{exc.__qualname__}"
    raise TypeError(f"retry_exceptions takes exception classes or names, got {exc!r}.")


def retry_settings(
    *,
    max_attempts: int | None = None,
    backoff: float = DEFAULTS["backoff"],
    backoff_factor: float = DEFAULTS["backoff_factor"],
    backoff_limit: float = DEFAULTS["backoff_limit"],
    backoff_jitter: tuple[float, float] | list[float] = tuple(DEFAULTS["backoff_jitter"]),
    retry_exceptions: Iterable[type[BaseException] | str] | None = None,
) -> dict[str, Any]:
    """Validated, JSON-ready settings for ``meta["retry_settings"]``.

    ``retry_exceptions``: retry only when the error is one of these (or a subclass),
    given as classes, bare class names (``"TimeoutError"``) or dotted paths
    (``"httpx.TimeoutException"``). None retries every error. ``max_attempts`` overrides
    the job's own ``max_attempts`` when set.
    """
    for name, value in (("backoff", backoff), ("backoff_limit", backoff_limit)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}.")
    if backoff_factor < 1:
        raise ValueError(f"backoff_factor must be at least 1, got {backoff_factor}.")
    low, high = backoff_jitter
    if not 0 <= low <= high:
        raise ValueError(
            f"backoff_jitter must be [min, max] with 0 <= min <= max, got {backoff_jitter}."
        )
    settings: dict[str, Any] = {
        "backoff": backoff,
        "backoff_factor": backoff_factor,
        "backoff_limit": backoff_limit,
        "backoff_jitter": [low, high],
    }
    if max_attempts is not None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}.")
        settings["max_attempts"] = max_attempts
    if retry_exceptions is not None:
        settings["retry_exceptions"] = [_exception_name(e) for e in retry_exceptions]
    return settings


def with_retry(job: Job, **settings: Any) -> Job:
    """``job`` with retry settings in its meta (and ``max_attempts``, if given, on the job)."""
    built = retry_settings(**settings)
    if "max_attempts" in built:
        job = job.with_max_attempts(built["max_attempts"])
    return job.with_meta({**job.meta, "retry_settings": built})


def _matches(exc: BaseException, names: list[str]) -> bool:
    for cls in type(exc).__mro__:
        if cls.__name__ in names or f"{cls.__module__}.{cls.__qualname__}" in names:
            return True
    return False


class RetryPlugin(Plugin):
    """Reschedules failed jobs with backoff, per the job's ``meta["retry_settings"]``.

    Jobs without settings use :data:`DEFAULTS`. A job is retried while its attempts
    (which count the run that just failed) are below ``max_attempts`` and the error is
    retryable: listed in ``retry_exceptions`` if that is set, and never a cancellation.
    Otherwise it ends ``failed``.
    """

    @staticmethod
    def get_identifier() -> str:
        return "chancy.retry_plugin"

    @staticmethod
    def calculate_next_run(job: QueuedJob, settings: dict[str, Any]) -> dt.datetime:
        """When the next attempt may start, from the attempt that just failed."""
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=RetryPlugin.delay(job, settings))

    @staticmethod
    def delay(job: QueuedJob, settings: dict[str, Any]) -> float:
        merged = {**DEFAULTS, **settings}
        exponent = max(job.attempts - 1, 0)
        try:
            grown = merged["backoff"] * merged["backoff_factor"] ** exponent
        except OverflowError:
            grown = float("inf")
        low, high = merged["backoff_jitter"]
        return min(grown, merged["backoff_limit"]) + random.uniform(low, high)

    async def on_job_completed(
        self,
        *,
        worker: Worker,
        job: QueuedJob,
        exc: BaseException | None = None,
        result: Any = None,
    ) -> QueuedJob:
        if exc is None or job.state not in (State.FAILED, State.RETRYING):
            return job
        settings = job.meta.get("retry_settings") or {}
        max_attempts = settings.get("max_attempts") or job.max_attempts
        names = settings.get("retry_exceptions")
        wanted = retryable(exc) and (names is None or _matches(exc, names))
        if wanted and job.attempts < max_attempts:
            return dataclasses.replace(
                job,
                state=State.RETRYING,
                scheduled_at=self.calculate_next_run(job, settings),
                completed_at=None,
                max_attempts=max_attempts,
            )
        return dataclasses.replace(
            job,
            state=State.FAILED,
            completed_at=job.completed_at or dt.datetime.now(dt.UTC),
            max_attempts=max_attempts,
        )

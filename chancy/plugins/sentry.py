"""Report failed jobs to Sentry (``pip install chancy[sentry]``).

Call ``sentry_sdk.init(...)`` yourself, as for any other code: this plugin only adds
each failure, with the job's context, to whatever client is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chancy.job import QueuedJob
from chancy.plugin import Plugin

try:
    import sentry_sdk
except ImportError as exc:
    raise ImportError(
        "SentryPlugin needs the sentry-sdk package: pip install chancy[sentry]"
    ) from exc

if TYPE_CHECKING:
    from chancy.worker import Worker

__all__ = ["SentryPlugin"]


class SentryPlugin(Plugin):
    """Capture the exception of every failed job attempt in Sentry.

    Each event is tagged ``chancy.func``, ``chancy.queue`` and ``chancy.worker`` (for
    searching and grouping in Sentry) and carries a ``chancy.job`` context: job id,
    function, queue, attempt number and maximum, state after the attempt, worker id and
    the *names* of the kwargs. Kwarg values are left out on purpose, as they often hold
    personal data; add them in your own ``before_send`` if you want them.

    Attempts that will be retried are reported too (the context's ``state`` says
    ``retrying``), so a flaky job is visible before it finally fails.
    """

    @staticmethod
    def get_identifier() -> str:
        return "chancy.sentry_plugin"

    async def on_job_completed(
        self,
        *,
        worker: Worker,
        job: QueuedJob,
        exc: BaseException | None = None,
        result: Any = None,
    ) -> QueuedJob:
        # Only real errors: a cancellation or interpreter exit is not a job's fault.
        if isinstance(exc, Exception):
            self.capture(worker, job, exc)
        return job

    @staticmethod
    def capture(worker: Worker, job: QueuedJob, exc: BaseException) -> str | None:
        """Send one failure to Sentry; returns the event id (None if not sent)."""
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("chancy.func", job.func)
            scope.set_tag("chancy.queue", job.queue)
            scope.set_tag("chancy.worker", worker.worker_id)
            scope.set_extra("chancy.job_id", str(job.id))
            scope.set_context(
                "chancy.job",
                {
                    "id": str(job.id),
                    "func": job.func,
                    "queue": job.queue,
                    "attempts": job.attempts,
                    "max_attempts": job.max_attempts,
                    "state": str(job.state),
                    "worker_id": worker.worker_id,
                    "kwargs_keys": sorted(job.kwargs or {}),
                },
            )
            return scope.capture_exception(exc)

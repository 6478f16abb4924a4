"""Spans around job runs, children of the span that pushed the job (see chancy.tracing).

A default plugin: with ``opentelemetry-api`` missing, or no SDK configured when the worker
runs its first job, its hooks report "not implemented" on first call and the worker stops
calling them, so it costs nothing. Configure your tracer provider before starting workers.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import chancy.tracing as tracing
from chancy.job import QueuedJob
from chancy.plugin import Plugin

if TYPE_CHECKING:
    from chancy.worker import Worker

__all__ = ["Tracing"]

#: Runs whose end was never reported (a lost worker) are forgotten past this many.
MAX_OPEN_SPANS = 10_000


class Tracing(Plugin):
    """OpenTelemetry ``chancy.run`` spans with the job's outcome, attempt and error."""

    def __init__(self) -> None:
        super().__init__()
        self._open: OrderedDict[tuple[Any, Any], Any] = OrderedDict()

    @staticmethod
    def get_identifier() -> str:
        return "chancy.tracing"

    async def on_job_starting(self, *, job: QueuedJob, worker: Worker) -> QueuedJob:
        if not tracing.recording():
            raise NotImplementedError
        trace = tracing.trace
        parent = tracing.extract(job.meta)
        pushed = trace.get_current_span(parent).get_span_context()
        span = tracing.tracer().start_span(
            f"chancy.run {job.func}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            links=[trace.Link(pushed)] if pushed.is_valid else None,
            attributes={
                "messaging.system": "chancy",
                "messaging.operation.type": "process",
                "messaging.destination.name": job.queue,
                "messaging.message.id": str(job.id),
                "chancy.job.func": job.func,
                "chancy.job.attempt": job.attempts,
                "chancy.worker.id": worker.worker_id,
            },
        )
        self._open[(job.id, job.claim_id)] = span
        while len(self._open) > MAX_OPEN_SPANS:
            self._open.popitem(last=False)[1].end()
        return job

    async def on_job_completed(
        self,
        *,
        worker: Worker,
        job: QueuedJob,
        exc: BaseException | None = None,
        result: Any = None,
    ) -> QueuedJob:
        if not tracing.recording():
            raise NotImplementedError
        span = self._open.pop((job.id, job.claim_id), None)
        if span is None:
            return job
        span.set_attribute("chancy.job.state", str(job.state))
        span.set_attribute("chancy.job.attempts", job.attempts)
        if exc is not None:
            span.record_exception(exc)
            span.set_status(tracing.trace.Status(tracing.trace.StatusCode.ERROR, str(exc)))
        span.end()
        return job

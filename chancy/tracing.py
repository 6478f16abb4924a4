"""OpenTelemetry tracing of pushes, carried to the runs (``pip install 'chancy[otel]'``).

A push opens a ``chancy.push`` span (producer kind) and writes its trace context into each
job's ``meta["otel"]`` (W3C ``traceparent``/``tracestate``). The worker's
:class:`~chancy.plugins.tracing.Tracing` plugin (a default plugin) opens a ``chancy.run``
span per run as a child of, and linked to, that push span, so the request that pushed a
job and the worker that ran it appear in one trace.

Without ``opentelemetry-api`` installed everything here is a no-op costing one attribute
check. With the API but no SDK configured, the tracer is OpenTelemetry's no-op tracer and
nothing is written into ``meta``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

try:
    from opentelemetry import propagate, trace
except ImportError:  # the otel extra is not installed
    propagate = None  # type: ignore[assignment]
    trace = None  # type: ignore[assignment]

from chancy.job import Job

__all__ = ["AVAILABLE", "META_KEY", "extract", "provider", "push_span", "recording", "tracer"]

#: Whether ``opentelemetry-api`` is importable.
AVAILABLE = trace is not None
#: The key in a job's meta that carries the pushing span's context.
META_KEY = "otel"


def provider() -> Any:
    """The tracer provider spans come from (OpenTelemetry's global one)."""
    return trace.get_tracer_provider()


def tracer() -> Any:
    return provider().get_tracer("chancy")


def recording() -> bool:
    """Whether a real SDK is configured: without one, a push skips the span entirely
    (a no-op span still costs ~13 us per push)."""
    return AVAILABLE and not isinstance(
        provider(), (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    )


@contextlib.contextmanager
def push_span(jobs: Sequence[Job]) -> Iterator[Sequence[Job]]:
    """Wrap a push in a span; yields the jobs with the span's context in their meta."""
    if not jobs or not recording():
        yield jobs
        return
    attributes = {
        "messaging.system": "chancy",
        "messaging.operation.type": "send",
        "messaging.destination.name": ",".join(sorted({job.queue for job in jobs})),
        "chancy.job.func": ",".join(sorted({job.func for job in jobs})),
        "messaging.batch.message_count": len(jobs),
    }
    with tracer().start_as_current_span(
        "chancy.push", kind=trace.SpanKind.PRODUCER, attributes=attributes
    ):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield [job.with_meta({**job.meta, META_KEY: carrier}) for job in jobs] if carrier else jobs


def extract(meta: dict[str, Any] | None) -> Any:
    """The OpenTelemetry context carried in a job's meta (empty when there is none)."""
    carrier = (meta or {}).get(META_KEY)
    return propagate.extract(carrier if isinstance(carrier, dict) else {})

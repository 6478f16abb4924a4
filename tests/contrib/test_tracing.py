"""OpenTelemetry: a push inside a span and its run on a worker land in one trace."""

from __future__ import annotations

import pytest

from chancy import Chancy, Job, Queue, tracing
from chancy.plugins.tracing import Tracing
from chancy.tracing import META_KEY
from tests.worker.worker_helpers import running_worker

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

ASYNC = "chancy.executors.asyncex.AsyncExecutor"
EXPORTER = InMemorySpanExporter()
# A provider of this module's own: the global one can be set once per process, and a
# global SDK would make every other test's pushes carry trace context in their meta.
PROVIDER = otel_sdk.TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))


async def succeed() -> str:
    return "done"


async def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def traced(monkeypatch: pytest.MonkeyPatch) -> None:
    EXPORTER.clear()
    monkeypatch.setattr(tracing, "provider", lambda: PROVIDER)


def spans(name_prefix: str) -> list:
    return [s for s in EXPORTER.get_finished_spans() if s.name.startswith(name_prefix)]


async def test_push_and_run_share_one_trace(chancy: Chancy) -> None:
    app = Chancy(chancy.engine, prefix=chancy.prefix, plugins=[Tracing()], no_default_plugins=True)
    queue = Queue("traced", executor=ASYNC, concurrency=2)
    tracer = PROVIDER.get_tracer("test")
    async with running_worker(app, queue):
        with tracer.start_as_current_span("request") as request:
            ok = await app.push(Job.from_func(succeed, queue="traced"))
            bad = await app.push(Job.from_func(explode, queue="traced"))
        await app.wait_for_job(ok, timeout=20)
        await app.wait_for_job(bad, timeout=20)

    trace_id = request.get_span_context().trace_id
    (push_ok, push_bad) = spans("chancy.push")
    assert {push_ok.parent.span_id, push_bad.parent.span_id} == {request.get_span_context().span_id}
    stored = await app.get_job(ok)
    assert stored is not None and "traceparent" in stored.meta[META_KEY]

    runs = {s.attributes["messaging.message.id"]: s for s in spans("chancy.run")}
    run_ok, run_bad = runs[str(ok.identifier)], runs[str(bad.identifier)]
    for run, push in ((run_ok, push_ok), (run_bad, push_bad)):
        assert run.context.trace_id == trace_id
        assert run.parent.span_id == push.context.span_id
        assert [link.context.span_id for link in run.links] == [push.context.span_id]
    assert run_ok.attributes["chancy.job.state"] == "succeeded"
    assert run_ok.status.status_code == trace.StatusCode.UNSET
    assert run_bad.attributes["chancy.job.state"] == "failed"
    assert run_bad.status.status_code == trace.StatusCode.ERROR
    assert any(event.name == "exception" for event in run_bad.events)


async def test_push_without_a_span_still_traces_its_own_push(chancy: Chancy) -> None:
    await chancy.push(Job.from_func(succeed, queue="traced"))
    (push,) = spans("chancy.push")
    assert push.parent is None
    assert push.attributes["messaging.destination.name"] == "traced"
    assert push.attributes["chancy.job.func"].endswith("succeed")


async def test_no_sdk_means_no_context_in_meta(
    chancy: Chancy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "provider", lambda: trace.NoOpTracerProvider())
    assert not tracing.recording()
    ref = await chancy.push(Job.from_func(succeed, queue="traced"))
    stored = await chancy.get_job(ref)
    assert stored is not None and META_KEY not in stored.meta

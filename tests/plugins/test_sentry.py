"""SentryPlugin: failed attempts reach Sentry with the job's context; nothing else does.

The SDK is real, with its transport replaced by one that keeps envelopes in a list, so
nothing leaves the process.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from chancy import Chancy
from chancy.plugins.sentry import SentryPlugin
from tests.plugins.helpers import job, started
from tests.prefix_pool import pooled_chancy


class Captured(Transport):
    """Keeps every envelope instead of sending it."""

    envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        Captured.envelopes.append(envelope)


@pytest.fixture
def events() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Sentry set up for the test; yields a function listing the events it would send."""
    Captured.envelopes = []
    client = sentry_sdk.Client(
        dsn="https://public@sentry.invalid/1",
        transport=Captured,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    scope = sentry_sdk.get_global_scope()
    scope.set_client(client)

    def captured() -> list[dict[str, Any]]:
        found = [envelope.get_event() for envelope in Captured.envelopes]
        return [event for event in found if event is not None]

    try:
        yield captured
    finally:
        scope.set_client(None)
        client.close()


@pytest.fixture
async def app(dsn: str) -> AsyncIterator[Chancy]:
    async with pooled_chancy(dsn, plugins=[SentryPlugin()], no_default_plugins=True) as chancy:
        yield chancy


async def test_failed_attempts_are_reported_with_the_job_context(
    app: Chancy, events: Callable[[], list[dict[str, Any]]]
) -> None:
    async with started(app) as worker:
        ref = await app.push(job("fail", kwargs={"kind": "KeyError"}, max_attempts=2))
        final = await app.wait_for_job(ref, interval=0.05, timeout=10)
    assert final is not None and final.state == "failed"

    reported = events()
    assert len(reported) == 2  # the retried attempt and the last one
    for attempt, event in enumerate(reported, start=1):
        [exc] = event["exception"]["values"]
        assert (exc["type"], exc["value"]) == ("KeyError", "'failing'")
        assert event["tags"] == {
            "chancy.func": job("fail").func,
            "chancy.queue": "default",
            "chancy.worker": worker.worker_id,
        }
        assert event["extra"]["chancy.job_id"] == str(ref.identifier)
        context = event["contexts"]["chancy.job"]
        assert context == {
            "id": str(ref.identifier),
            "func": job("fail").func,
            "queue": "default",
            "attempts": attempt,
            "max_attempts": 2,
            "state": "retrying" if attempt == 1 else "failed",
            "worker_id": worker.worker_id,
            # Names only: values may hold personal data.
            "kwargs_keys": ["kind"],
        }


async def test_successful_jobs_are_not_reported(
    app: Chancy, events: Callable[[], list[dict[str, Any]]]
) -> None:
    async with started(app) as worker:
        ref = await app.push(job("ok"))
        final = await app.wait_for_job(ref, interval=0.05, timeout=10)
    assert final is not None and final.state == "succeeded"
    assert events() == []

    # Called directly: the job comes back unchanged whatever happened.
    plugin = app.plugins["chancy.sentry_plugin"]
    queued = final
    assert await plugin.on_job_completed(worker=worker, job=queued) is queued
    assert await plugin.on_job_completed(worker=worker, job=queued, exc=ValueError("x")) is queued
    # A cancellation is not the job's error: not reported.
    cancelled = await plugin.on_job_completed(worker=worker, job=queued, exc=KeyboardInterrupt())
    assert cancelled is queued
    assert [e["exception"]["values"][0]["type"] for e in events()] == ["ValueError"]
    assert SentryPlugin.get_identifier() == "chancy.sentry_plugin"


def test_missing_sdk_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "chancy.plugins.sentry")
    with pytest.raises(ImportError, match=r"pip install chancy\[sentry\]"):
        importlib.import_module("chancy.plugins.sentry")

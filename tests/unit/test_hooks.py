"""Folding and calling plugin hooks (chancy.worker.hooks), without a database.

The plugins are plain objects; the worker they are handed is the fake WorkerContext.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chancy.worker.hooks import Hooks
from tests.unit.fakes import LOG, FakeContext


class Tagging:
    """Appends its name to the job (a list here), as a plugin changing the job would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.seen: list[Any] = []

    async def on_job_starting(self, *, job: list[str], worker: Any) -> list[str]:
        self.calls += 1
        self.seen.append(worker)
        return [*job, self.name]


class Unimplemented:
    """Upstream's convention: a base hook that raises NotImplementedError is skipped."""

    def __init__(self) -> None:
        self.calls = 0

    async def on_job_starting(self, **kwargs: Any) -> None:
        self.calls += 1
        raise NotImplementedError

    async def on_worker_started(self, **kwargs: Any) -> None:
        self.calls += 1
        raise NotImplementedError


class Watching:
    """Looks at the job and returns None: the job goes on unchanged."""

    def __init__(self) -> None:
        self.jobs: list[Any] = []

    async def on_job_starting(self, *, job: Any, worker: Any) -> None:
        self.jobs.append(job)


class Broken:
    async def on_job_starting(self, **kwargs: Any) -> Any:
        raise RuntimeError("plugin bug")

    async def on_worker_started(self, **kwargs: Any) -> None:
        raise RuntimeError("plugin bug")


async def test_fold_passes_the_job_through_every_plugin_in_order() -> None:
    ctx = FakeContext()
    first, second = Tagging("a"), Tagging("b")
    hooks = Hooks([first, Watching(), second], LOG)
    assert await hooks.fold("on_job_starting", ["job"], worker=ctx) == ["job", "a", "b"]
    assert first.seen == [ctx] and second.seen == [ctx]


async def test_a_plugin_returning_none_keeps_the_job() -> None:
    watching = Watching()
    hooks = Hooks([Tagging("a"), watching, Tagging("b")], LOG)
    assert await hooks.fold("on_job_starting", [], worker=FakeContext()) == ["a", "b"]
    assert watching.jobs == [["a"]]  # it saw the job as the plugin before changed it


async def test_a_failing_plugin_is_logged_and_the_job_goes_on_unchanged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks = Hooks([Tagging("a"), Broken(), Tagging("b")], LOG)
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        folded = await hooks.fold("on_job_starting", [], worker=FakeContext())
    assert folded == ["a", "b"]
    assert any("keeping the job unchanged" in r.getMessage() for r in caplog.records)


async def test_an_unimplemented_hook_is_asked_once_then_skipped() -> None:
    unimplemented, tagging = Unimplemented(), Tagging("a")
    hooks = Hooks([unimplemented, tagging, object()], LOG)
    for _ in range(3):
        assert await hooks.fold("on_job_starting", [], worker=FakeContext()) == ["a"]
    assert unimplemented.calls == 1 and tagging.calls == 3
    assert hooks.implemented("on_job_starting")


async def test_implemented_is_false_once_every_plugin_declined() -> None:
    unimplemented = Unimplemented()
    hooks = Hooks([unimplemented, object()], LOG)
    assert not hooks.implemented("on_job_completed")  # nobody has the method
    assert hooks.implemented("on_worker_started")  # not asked yet
    await hooks.call("on_worker_started", worker=FakeContext())
    assert not hooks.implemented("on_worker_started")
    await hooks.call("on_worker_started", worker=FakeContext())
    assert unimplemented.calls == 1


async def test_call_runs_every_plugin_despite_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Any] = []

    class Recording:
        async def on_worker_started(self, *, worker: Any) -> None:
            seen.append(worker)

    ctx = FakeContext()
    hooks = Hooks([Broken(), Recording()], LOG)
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        await hooks.call("on_worker_started", worker=ctx)
    assert seen == [ctx]
    assert any("failed in on_worker_started" in r.getMessage() for r in caplog.records)

"""QueueAssignment's decisions, without a database: which producers start, retire, restart
or follow a change live when the list of queues changes.

The assignment is driven through a fake WorkerContext; ``reconcile`` is given the queue
list a ``load`` would read. The producer tasks it starts are cancelled before they run
(they would claim from the database), so only the decisions are observed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from chancy.hub import Event
from chancy.queue import Queue
from chancy.worker.assignment import QueueAssignment
from chancy.worker.producer import Producer
from tests.unit.fakes import FakeContext


@contextlib.asynccontextmanager
async def assignment(ctx: FakeContext) -> AsyncIterator[QueueAssignment]:
    found = QueueAssignment(ctx)  # type: ignore[arg-type]
    try:
        yield found
    finally:
        tasks = [p.task for p in found.producers.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def crash(producer: Producer) -> None:
    """Make ``producer`` look as if its task ended with an error (never started here)."""
    assert producer.task is not None
    producer.task.cancel()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    producer.task = done  # type: ignore[assignment]


async def test_starts_a_producer_for_each_new_queue_and_announces_it() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("a"), Queue("b")])
        assert sorted(qa.producers) == ["a", "b"]
        assert all(p.task is not None and not p.retiring for p in qa.producers.values())
        assert qa.producers["a"].queue == Queue("a")
        assert ctx.changes == 1
        await qa.reconcile([Queue("a"), Queue("b")])  # nothing changed: nothing happens
        assert ctx.changes == 1


async def test_serves_only_matching_tags_and_named_queues() -> None:
    ctx = FakeContext(tags={"zone=eu"}, queues={"eu", "us", "named-only"})
    async with assignment(ctx) as qa:
        await qa.reconcile(
            [
                Queue("eu", tags={r"zone=eu"}),
                Queue("us", tags={r"zone=us"}),
                Queue("named-only", tags={r"zone=.*"}),
                Queue("unnamed", tags={r"zone=.*"}),
            ]
        )
        assert sorted(qa.producers) == ["eu", "named-only"]


async def test_an_invalid_tag_pattern_is_skipped_and_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = FakeContext(tags={"a"})
    bad = Queue("bad", tags={"(", "a"})
    async with assignment(ctx) as qa:
        with caplog.at_level(logging.ERROR, logger=ctx.log.name):
            await qa.reconcile([bad])
            await qa.reconcile([bad])
        assert "bad" in qa.producers  # the valid pattern still matches
        reports = [r for r in caplog.records if "invalid tag regex" in r.getMessage()]
        assert len(reports) == 1


async def test_the_workers_concurrency_overrides_the_queues() -> None:
    ctx = FakeContext(concurrency=2)
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q", concurrency=9)])
        assert qa.producers["q"].queue.concurrency == 2
        await qa.reconcile([Queue("q", concurrency=5)])  # same once overridden: no restart
        assert qa.producers["q"].replacement is None


async def test_a_removed_queue_retires_and_stays_until_drained() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("a"), Queue("b")])
        producer = qa.producers["b"]
        await qa.reconcile([Queue("a")])
        assert producer.retiring and qa.producers["b"] is producer
        assert not qa.producers["a"].retiring
        assert ctx.changes == 1  # still served while it drains
        qa.forget(producer)  # it drained
        assert "b" not in qa.producers and ctx.changes == 2


async def test_a_changed_queue_is_replaced_after_draining() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q", concurrency=1)])
        producer = qa.producers["q"]
        await qa.reconcile([Queue("q", concurrency=4)])
        assert producer.replacement == Queue("q", concurrency=4)
        assert producer.queue == Queue("q", concurrency=1)  # until it has drained
        assert qa.producers["q"] is producer and not producer.retiring


async def test_pause_and_resume_apply_live_and_are_announced() -> None:
    ctx = FakeContext()
    updates: list[Event] = []
    ctx.hub.on("worker.queue.updated", updates.append)
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q")])
        producer = qa.producers["q"]
        paused = Queue("q", state=Queue.State.PAUSED)
        await qa.reconcile([paused])
        assert producer.queue == paused and producer.replacement is None
        assert [e.body["queue"] for e in updates] == [paused]


async def test_a_live_change_while_a_restart_is_pending_joins_the_restart() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q", concurrency=1)])
        producer = qa.producers["q"]
        await qa.reconcile([Queue("q", concurrency=4)])
        paused = Queue("q", concurrency=4, state=Queue.State.PAUSED)
        await qa.reconcile([paused])
        assert producer.replacement == paused
        assert producer.queue == Queue("q", concurrency=1)


async def test_a_queue_back_before_it_drained_is_taken_back() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q")])
        producer = qa.producers["q"]
        await qa.reconcile([])
        assert producer.retiring
        await qa.reconcile([Queue("q")])
        assert not producer.retiring and producer.replacement == Queue("q")
        assert qa.producers["q"] is producer


async def test_a_stopped_producer_is_started_again_and_its_successor_kept() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q")])
        crashed = qa.producers["q"]
        crash(crashed)
        await qa.reconcile([Queue("q")])
        successor = qa.producers["q"]
        assert successor is not crashed
        assert successor.task is not None and not successor.task.done()
        changes = ctx.changes
        qa.forget(crashed)  # the old one reporting late must not drop its successor
        assert qa.producers["q"] is successor and ctx.changes == changes


async def test_a_stopped_producer_of_a_removed_queue_is_dropped() -> None:
    ctx = FakeContext()
    async with assignment(ctx) as qa:
        await qa.reconcile([Queue("q"), Queue("r")])
        crashed = qa.producers["q"]
        crash(crashed)
        await qa.reconcile([Queue("r")])
        assert sorted(qa.producers) == ["r"] and not crashed.retiring

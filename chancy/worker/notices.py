"""Notifications from other processes, turned into actions on this worker's queues.

Pushes wake the queue's producer, queue changes make the assignment reload, and a
cancellation or a recovery stops the run it names. Everything goes through the queue
assignment (its producers and their executors), never through the worker.
"""

from __future__ import annotations

import logging

from chancy import events
from chancy.executors.base import Executor
from chancy.hub import Event, Hub
from chancy.job import Reference
from chancy.worker import logs
from chancy.worker.assignment import QueueAssignment

__all__ = ["Notices"]


class Notices:
    def __init__(self, assignment: QueueAssignment, log: logging.Logger) -> None:
        self.assignment = assignment
        self.log = log

    def subscribe(self, hub: Hub) -> None:
        hub.on(events.JOB_CANCELLED, self.on_cancelled)
        hub.on(events.JOB_RECOVERED, self.on_recovered)
        hub.on(events.QUEUE_PUSHED, self.on_pushed)
        for event in events.QUEUE_CHANGES:
            hub.on(event, self.on_queue_change)

    @property
    def executors(self) -> list[Executor]:
        producers = self.assignment.producers.values()
        return [p.executor for p in producers if p.executor is not None]

    async def on_pushed(self, event: Event) -> None:
        producer = self.assignment.producers.get(event.body.get(events.QUEUE, ""))
        if producer is not None:
            producer.wake.set()

    async def on_cancelled(self, event: Event) -> None:
        try:
            ref = Reference(event.body[events.JOB])
        except (KeyError, ValueError):
            return
        for executor in self.executors:
            if await executor.cancel(ref):
                self.log.info(
                    "Cancelled running job %s.",
                    ref.identifier,
                    extra={"job_id": str(ref.identifier)},
                )

    async def on_recovered(self, event: Event) -> None:
        """Recovery gave this job to someone else: stop our run of that exact claim."""
        try:
            ref, claim = Reference(event.body[events.JOB]), event.body.get(events.CLAIM)
        except (KeyError, ValueError):
            return
        for executor in self.executors:
            running = executor.running(ref)
            if running is not None and str(running.claim_id) == claim:
                await executor.cancel(ref)
                self.log.warning(
                    "Job %s was recovered from this worker; stopped it.",
                    ref.identifier,
                    extra=logs.job_fields(running),
                )

    async def on_queue_change(self, event: Event) -> None:
        """A queue was declared, paused, resumed or deleted: reload the queues now."""
        self.assignment.changed.set()

    async def wake_all(self) -> None:
        """After a reconnection: notifications may have been missed, so look again."""
        for producer in self.assignment.producers.values():
            producer.wake.set()
        self.assignment.changed.set()

"""Which queues this worker serves, kept in step with the queues table.

The watcher reloads queue definitions when a queue notification arrives (or every
``queue_change_poll_interval`` seconds), starts a producer for each queue whose tag
patterns match the worker's tags, retires producers of deleted or untagged queues, and
restarts a producer whose configuration changed once its executor has drained. Pausing
and resuming take effect at once, without a restart; every change is announced on the
hub as ``worker.queue.updated`` so callers can tell when the worker has seen it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re

from chancy.db.statements import queues as queues_sql
from chancy.loops import FAILED, attempt, wait_for_event
from chancy.queue import Queue
from chancy.worker.context import WorkerContext
from chancy.worker.producer import Producer

#: Queue fields a running executor can follow without being rebuilt.
_LIVE_FIELDS = ("state", "resume_at")


class QueueAssignment:
    def __init__(self, worker: WorkerContext) -> None:
        self.worker = worker
        self.producers: dict[str, Producer] = {}
        self.changed = asyncio.Event()
        self._warned_tags: set[str] = set()

    async def load(self) -> list[Queue]:
        """Every valid queue row. A row that fails validation (say, edited by hand) is
        logged and skipped, so one bad queue cannot stop the others being served."""
        chancy = self.worker.chancy
        async with chancy.engine.connect() as conn:
            rows = (await conn.execute(queues_sql.build_get_all_queues(chancy.models))).all()
        queues = []
        for row in rows:
            try:
                queues.append(queues_sql.row_to_queue(row))
            except (ValueError, TypeError, KeyError) as exc:
                if (key := f"row:{row.name}:{exc}") not in self._warned_tags:
                    self._warned_tags.add(key)
                    self.worker.log.error(
                        "Queue %r has invalid settings (%s); skipping it. Fix them with "
                        "chancy.declare(Queue(...), upsert=True).",
                        row.name,
                        exc,
                    )
        return queues

    async def watch(self) -> None:
        backoff = self.worker.database_retry("Loading queues")
        while True:
            self.changed.clear()
            if await attempt(self.refresh, backoff) is FAILED:
                continue
            await wait_for_event(self.changed, self.worker.queue_change_poll_interval)

    async def refresh(self) -> None:
        """Load the queues and follow them: start, retire, restart or update producers."""
        await self.reconcile(await self.load())

    def _serves(self, queue: Queue) -> bool:
        if self.worker.queues is not None and queue.name not in self.worker.queues:
            return False
        tags = self.worker.worker_tags()
        for pattern in sorted(queue.tags):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                if (key := f"{queue.name}:{pattern}") not in self._warned_tags:
                    self._warned_tags.add(key)
                    self.worker.log.error(
                        "Queue %r has an invalid tag regex %r (%s); skipping it.",
                        queue.name,
                        pattern,
                        exc,
                    )
                continue
            if any(compiled.match(tag) for tag in tags):
                return True
        return False

    def _local(self, queue: Queue) -> Queue:
        """The queue as this worker runs it: ``Worker(concurrency=...)`` overrides slots."""
        if self.worker.concurrency is None:
            return queue
        return dataclasses.replace(queue, concurrency=self.worker.concurrency)

    async def reconcile(self, queues: list[Queue]) -> None:
        served = set(self.producers)
        await self._reconcile(queues)
        if set(self.producers) != served:
            self.worker.queues_changed()

    async def _reconcile(self, queues: list[Queue]) -> None:
        wanted = {q.name: self._local(q) for q in queues if self._serves(q)}
        for name, producer in list(self.producers.items()):
            if producer.task is not None and producer.task.done():
                del self.producers[name]
                continue
            if name not in wanted:
                producer.retire()
                continue
            target = wanted.pop(name)
            if producer.retiring:
                # Deleted (or untagged) and back before it drained: restart, don't drop it.
                producer.replace_with(target)
                continue
            current = producer.replacement or producer.queue
            if target == current:
                continue
            if _same_except_live(target, current) and producer.replacement is None:
                await producer.apply_live(target)
            else:
                producer.replace_with(target)
        for name, queue in wanted.items():
            producer = Producer(self.worker, queue, on_retired=self.forget)
            producer.task = asyncio.create_task(
                self._run_producer(producer), name=f"chancy:queue:{name}"
            )
            self.producers[name] = producer

    def forget(self, producer: Producer) -> None:
        """Drop a producer that has retired (a newer one for the same queue stays)."""
        if self.producers.get(producer.queue.name) is producer:
            del self.producers[producer.queue.name]
            self.worker.queues_changed()

    async def _run_producer(self, producer: Producer) -> None:
        try:
            await producer.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if producer.retry.exhausted:  # backoff_max_retries ran out: the worker stops
                self.worker.loop_failed(f"queue {producer.queue.name!r}", exc)
                return
            # Not restarted at once: a queue that cannot start (say, a bad executor path)
            # would spin. The next regular queue check starts it again.
            self.worker.log.exception(
                "Queue %r stopped with an error; it restarts at the next queue check.",
                producer.queue.name,
            )


def _same_except_live(a: Queue, b: Queue) -> bool:
    strip = dict.fromkeys(_LIVE_FIELDS)
    return {**a.pack(), **strip} == {**b.pack(), **strip}

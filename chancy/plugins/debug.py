"""DebugPlugin: log every event on a worker's hub and count them, to see what happens."""

from __future__ import annotations

import logging
import weakref
from collections import Counter
from typing import TYPE_CHECKING

from chancy.hub import Event, Hub
from chancy.plugin import Plugin

if TYPE_CHECKING:
    from chancy.worker import Worker

__all__ = ["DebugPlugin"]


class DebugPlugin(Plugin):
    """Logs every hub event of the worker (name and body) and counts them by name.

    For development and for tests that want to see which events fired::

        debug = DebugPlugin()
        chancy = Chancy(dsn, plugins=[debug])
        ...
        assert debug.get_event_count("worker.started") == 1

    The handler is attached when the worker starts, before any other plugin runs, so
    ``worker.started`` and the first ``worker.queue.started`` are seen too, and stays
    for the hub's life, so ``worker.stopped`` is seen as well. Events go to the app's
    logger at ``level`` (INFO, as upstream).
    """

    def __init__(self, *, level: int = logging.INFO) -> None:
        super().__init__()
        self.level = level
        #: Events seen so far, by name.
        self.event_counts: Counter[str] = Counter()
        self._hubs: weakref.WeakSet[Hub] = weakref.WeakSet()

    @staticmethod
    def get_identifier() -> str:
        return "chancy.debug_plugin"

    def get_event_count(self, event_name: str) -> int:
        """How many times ``event_name`` was emitted on the worker's hub so far."""
        return self.event_counts[event_name]

    async def on_worker_started(self, *, worker: Worker) -> None:
        if worker.hub in self._hubs:  # a worker started again keeps its one handler
            return
        self._hubs.add(worker.hub)

        def log_event(event: Event) -> None:
            self.event_counts[event.name] += 1
            worker.log.log(self.level, "Event %s: %s", event.name, event.body)

        worker.hub.on_any(log_event)

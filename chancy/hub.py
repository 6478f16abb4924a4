"""An in-process event hub: worker lifecycle events and re-emitted database notifications."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["Event", "Hub"]

Handler = Callable[[Any], Any]


@dataclasses.dataclass
class Event:
    name: str
    body: dict[str, Any]


class Hub:
    """Named events with handlers and waiters.

    Handlers may be plain or async functions; they get the :class:`Event`. ``wait_for``
    returns the events that fired, or an empty list on timeout.

    One failing handler does not stop the others: its exception is logged (naming the
    handler and the event) and the remaining handlers and waiters still run, so a
    plugin's bug cannot silence the worker's own listeners.
    """

    def __init__(self, *, log: logging.Logger | None = None) -> None:
        self.log = log or logging.getLogger("chancy")
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._any: list[Handler] = []
        self._waiters: dict[str, list[asyncio.Future[Event]]] = defaultdict(list)

    def on(self, event: str, f: Handler) -> None:
        self._handlers[event].append(f)

    def on_any(self, f: Handler) -> None:
        self._any.append(f)

    def remove(self, event: str, f: Handler) -> None:
        if f in self._handlers.get(event, ()):
            self._handlers[event].remove(f)

    def remove_on_any(self, f: Handler) -> None:
        if f in self._any:
            self._any.remove(f)

    def clear(self) -> None:
        self._handlers.clear()
        self._any.clear()
        for waiters in self._waiters.values():
            for fut in waiters:
                fut.cancel()
        self._waiters.clear()

    async def emit(self, event: str, body: dict[str, Any] | None = None) -> None:
        ev = Event(event, body or {})
        for handler in [*self._handlers.get(event, ()), *self._any]:
            try:
                result = handler(ev)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self.log.exception("Event handler %r failed on event %r.", handler, event)
        for fut in self._waiters.pop(event, []):
            if not fut.done():
                fut.set_result(ev)

    async def wait_for(self, event: str | list[str], timeout: float | None = None) -> list[Event]:
        names = [event] if isinstance(event, str) else list(event)
        if not names:
            raise ValueError("wait_for needs at least one event name.")
        loop = asyncio.get_running_loop()
        futures = []
        for name in names:
            fut: asyncio.Future[Event] = loop.create_future()
            self._waiters[name].append(fut)
            futures.append(fut)
        try:
            done, _ = await asyncio.wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for name, fut in zip(names, futures, strict=True):
                if not fut.done():
                    fut.cancel()
                    if fut in self._waiters.get(name, ()):
                        self._waiters[name].remove(fut)
        return [f.result() for f in done if not f.cancelled()]

"""The live event stream: every hub event of the serving worker, over a websocket.

The worker's hub sees its own lifecycle events and, through its listener, every
notification sent to the prefix's channel (jobs pushed, cancelled, queues changed ...),
so one connection shows the whole cluster's activity. Each message is
``{"event": name, "data": body}``; the first one is ``chancy.connected``, sent once the
subscription is in place.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from chancy.hub import Event
from chancy.plugins.api.http import to_json

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["MAX_BACKLOG", "stream_events"]

#: Events held for a slow client; beyond that they are dropped (and counted).
MAX_BACKLOG = 1000


async def stream_events(websocket: WebSocket, *, chancy: Chancy, worker: Worker) -> None:
    backlog: asyncio.Queue[Event] = asyncio.Queue(maxsize=MAX_BACKLOG)
    dropped = 0

    def on_event(event: Event) -> None:
        nonlocal dropped
        try:
            backlog.put_nowait(event)
        except asyncio.QueueFull:
            dropped += 1

    async def send_events() -> None:
        nonlocal dropped
        while True:
            event = await backlog.get()
            data = {"event": event.name, "data": event.body}
            if dropped:
                data["dropped"], dropped = dropped, 0
            await websocket.send_text(to_json(data, lenient=True))

    worker.hub.on_any(on_event)
    sender: asyncio.Task[None] | None = None
    try:
        await websocket.accept()
        hello = {"worker_id": worker.worker_id, "user": websocket.user.display_name}
        await websocket.send_text(to_json({"event": "chancy.connected", "data": hello}))
        sender = asyncio.create_task(send_events())
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        worker.hub.remove_on_any(on_event)
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

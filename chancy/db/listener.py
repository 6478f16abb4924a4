"""The LISTEN side of notifications: one raw psycopg connection per worker.

SQLAlchemy has no notification API, so this is the one place that talks to psycopg
directly. The connection is autocommit and outside any pool; when it drops, the
listener reconnects with backoff and calls ``on_reconnect`` so its owner can poll for
whatever it missed meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg import sql

from chancy.backoff import DatabaseRetry
from chancy.loops import attempt

Dispatch = Callable[[str, dict[str, Any]], Awaitable[None]]


class Listener:
    def __init__(
        self,
        conninfo: str,
        channel: str,
        dispatch: Dispatch,
        *,
        log: logging.Logger,
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
        max_backoff: float = 30.0,
        retry: DatabaseRetry | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.dispatch = dispatch
        self.log = log
        self.on_reconnect = on_reconnect
        self.retry = retry or DatabaseRetry(
            "Notification listener", log=log, initial=0.5, maximum=max_backoff
        )
        #: Set while LISTEN is established.
        self.listening = asyncio.Event()
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self._connected_before = False

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with backoff whenever the connection is
        lost; every reconnection after the first calls ``on_reconnect``."""
        self._connected_before = False
        while True:
            await attempt(self._listen, self.retry)

    async def _listen(self) -> None:
        """One connection's life: LISTEN, then dispatch until it ends."""
        try:
            async with await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True
            ) as conn:
                self.connection = conn
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self.listening.set()
                self.retry.reset()
                if self._connected_before and self.on_reconnect is not None:
                    await self.on_reconnect()
                self._connected_before = True
                async for note in conn.notifies():
                    await self._handle(note.payload)
        finally:
            self.connection = None
            self.listening.clear()

    async def _handle(self, payload: str) -> None:
        try:
            body = json.loads(payload)
            event = body.pop("t")
        except (ValueError, KeyError, AttributeError):
            self.log.warning("Ignoring a malformed notification: %r", payload[:200])
            return
        try:
            await self.dispatch(event, body)
        except Exception:
            self.log.exception("A handler for notification %r failed.", event)

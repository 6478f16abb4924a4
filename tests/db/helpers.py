"""Helpers for the database tests: direct state changes, counts, statements and NOTIFYs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from chancy import Chancy

#: A test using the ``tx`` fixture runs on its module's event loop, as the shared app does.
IN_TX = pytest.mark.asyncio(loop_scope="module")


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """Every SQL statement psycopg sends during the block, through SQLAlchemy or run on
    the driver connection directly (the hot paths), except the pool's liveness ping.

    Recorded where psycopg's cursors execute, since the hot paths bypass SQLAlchemy's
    ``before_cursor_execute`` event."""
    seen: list[str] = []
    originals = {cls: cls.execute for cls in (psycopg.Cursor, psycopg.AsyncCursor)}

    def recording(original: Any) -> Any:
        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = " ".join(str(query).split())
            if text.lower() not in ("select 1", ";"):
                seen.append(text)
            return original(cursor, query, *args, **kwargs)

        return execute

    for cls, original in originals.items():
        cls.execute = recording(original)  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        for cls, original in originals.items():
            cls.execute = original  # type: ignore[method-assign]


class Listener:
    """LISTEN on the app's channel through a raw autocommit psycopg connection.

    :meth:`drain` commits a sentinel NOTIFY of its own and collects everything that
    arrives before it. Postgres delivers notifications in commit order, so that is
    exactly what was committed earlier: no sleeping, and "nothing arrived" is exact.
    """

    def __init__(self, app: Chancy, conn: psycopg.AsyncConnection[Any]) -> None:
        self.app = app
        self.conn = conn

    @classmethod
    async def open(cls, app: Chancy) -> Listener:
        conn = await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True)
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(app.models.channel)))
        return cls(app, conn)

    async def close(self) -> None:
        await self.conn.close()

    async def drain(self, *, timeout: float = 10) -> list[dict[str, Any]]:
        token = secrets.token_hex(8)
        async with self.app.engine.begin() as conn:
            await conn.execute(
                sa.select(sa.func.pg_notify(self.app.models.channel, json.dumps({"t": token})))
            )
        received: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            async for note in self.conn.notifies():
                payload = json.loads(note.payload)
                if payload == {"t": token}:
                    return received
                received.append(payload)
        raise AssertionError("unreachable: notifies() ended")  # pragma: no cover

    async def pushed_queues(self) -> list[str]:
        """The queues named by ``queue.pushed`` notifications committed so far, in order."""
        return [p["q"] for p in await self.drain() if p.get("t") == "queue.pushed"]

"""The event hub: every handler runs even when one raises, and the failure is logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from chancy.hub import Event, Hub


async def test_a_raising_handler_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Hub()
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    async def async_broken(event: Event) -> None:
        raise ValueError("async handler bug")

    hub.on("x", broken)
    hub.on("x", lambda e: seen.append("sync"))
    hub.on("x", async_broken)
    hub.on_any(lambda e: seen.append(f"any:{e.name}"))
    waiter = asyncio.ensure_future(hub.wait_for("x", timeout=5))
    await asyncio.sleep(0)  # let the waiter register
    with caplog.at_level(logging.ERROR, logger="chancy"):
        await hub.emit("x", {"k": 1})
    assert seen == ["sync", "any:x"]
    assert [e.body for e in await waiter] == [{"k": 1}]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "broken" in messages[0] and "'x'" in messages[0]
    assert "async_broken" in messages[1]
    assert all(r.exc_info for r in caplog.records)  # the traceback is kept


async def test_the_hub_logs_to_the_logger_it_is_given(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test-hub")
    hub = Hub(log=log)
    hub.on_any(lambda e: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="test-hub"):
        await hub.emit("y")
    assert [r.name for r in caplog.records] == ["test-hub"]


async def test_cancellation_is_not_swallowed() -> None:
    hub = Hub()

    async def cancelled(event: Event) -> None:
        raise asyncio.CancelledError

    hub.on("z", cancelled)
    with pytest.raises(asyncio.CancelledError):
        await hub.emit("z")

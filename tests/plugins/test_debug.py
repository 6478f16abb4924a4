"""DebugPlugin (upstream 0.26): logs every hub event of a worker and counts them."""

from __future__ import annotations

import logging

import pytest

from chancy import Chancy, Queue
from chancy.plugins.debug import DebugPlugin
from tests.plugins.helpers import ASYNC, job, started
from tests.prefix_pool import pooled_chancy


async def test_every_event_is_logged_and_counted(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    debug = DebugPlugin()
    async with pooled_chancy(dsn, plugins=[debug], no_default_plugins=True) as app:
        assert app.plugins["chancy.debug_plugin"] is debug
        with caplog.at_level(logging.INFO, logger=app.log.name):
            async with started(app, Queue("dbg", executor=ASYNC)) as worker:
                ref = await app.push(job("ok", queue="dbg"))
                await app.wait_for_job(ref, interval=0.05, timeout=10)
                await worker.hub.emit("custom.event", {"n": 1})
        assert debug.get_event_count("worker.started") == 1
        assert debug.get_event_count("custom.event") == 1
        assert debug.get_event_count("worker.stopped") == 1
        assert debug.get_event_count("worker.jobs.updated") >= 1
        assert debug.get_event_count("never.emitted") == 0
        logged = [r.getMessage() for r in caplog.records]
        assert "Event custom.event: {'n': 1}" in logged
        assert sum(debug.event_counts.values()) == sum(1 for m in logged if m.startswith("Event "))


def test_identity() -> None:
    assert DebugPlugin.get_identifier() == "chancy.debug_plugin"
    assert DebugPlugin.get_dependencies() == []
    assert isinstance(Chancy("postgresql://u@h/d", plugins=[DebugPlugin()]).plugins, dict)

"""The Django suite: the example project (examples/django_project) under pytest-django.

Run by tests/contrib/test_django.py in a subprocess with ``--ds django_project.settings``
(pytest-django configures Django once per process, so it can't share the main run).
pytest-django creates and later drops a test database; chancy's tables are migrated into
it for the settings' prefix and a second one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from chancy import Chancy, Queue, Worker
from chancy.contrib.django.app import run_with_chancy
from chancy.job import QueuedJob, Reference
from chancy.plugins.cron import Cron
from chancy.plugins.workflow import WorkflowPlugin

#: A second prefix migrated beside the settings' one (the models-vs-schema test uses both).
OTHER_PREFIX = f"{settings.CHANCY_PREFIX}b_"
THREADED = "chancy.executors.thread.ThreadedExecutor"
ASYNC = "chancy.executors.asyncex.AsyncExecutor"


def _app(prefix: str, **options: Any) -> Chancy:
    return Chancy(settings.DATABASES["default"], prefix=prefix, **options)


async def _migrate(prefix: str) -> None:
    async with _app(prefix, plugins=[Cron(), WorkflowPlugin()], no_default_plugins=True) as app:
        await app.migrate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        for prefix in (settings.CHANCY_PREFIX, OTHER_PREFIX):
            asyncio.run(_migrate(prefix))
    yield
    # The Tasks backend caches an app whose pool holds connections to the test database,
    # which pytest-django is about to drop.
    from django.tasks import task_backends

    backend = task_backends["default"]
    if "chancy" in backend.__dict__:
        backend.chancy.__exit__(None, None, None)


class ThreadWorker:
    """A chancy worker on its own event loop in a thread, for sync Django tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.worker: Worker | None = None
        self.app = _app(settings.CHANCY_PREFIX, no_default_plugins=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        for queue in (
            Queue("default", executor=THREADED, concurrency=2),
            Queue("mail", executor=THREADED, concurrency=2),
        ):
            await self.app.declare(queue, upsert=True)
        self.worker = Worker(self.app, register_signal_handlers=False, queue_change_poll_interval=1)
        await self.worker.start()

    async def _stop(self) -> None:
        assert self.worker is not None
        await self.worker.stop()
        await self.app.__aexit__(None, None, None)

    def start(self) -> ThreadWorker:
        self.thread.start()
        assert self.ready.wait(30), "the worker did not start"
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def worker(transactional_db: None) -> Iterator[ThreadWorker]:
    running = ThreadWorker().start()
    try:
        yield running
    finally:
        running.stop()


def wait_for(job_id: str, timeout: float = 30) -> QueuedJob:
    """Block until the job ends, on a short-lived app (no event loop here)."""
    return run_with_chancy(lambda app: app.wait_for_job(Reference(job_id), timeout=timeout))

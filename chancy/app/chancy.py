"""The :class:`Chancy` application object."""

from __future__ import annotations

import enum

from chancy.app.jobs import JobMixin
from chancy.app.migrating import MigrateMixin
from chancy.app.pushing import PushMixin
from chancy.app.queues import QueueMixin


class Chancy(PushMixin, QueueMixin, JobMixin, MigrateMixin):
    """A Chancy application: configuration plus everything you do with the queue.

    ``dsn`` is a ``postgresql://`` DSN (the psycopg 3 driver is picked for you), a
    SQLAlchemy URL, a Django ``DATABASES`` entry (a dict with NAME, USER, HOST ...), or
    your app's existing :class:`~sqlalchemy.ext.asyncio.AsyncEngine` (which chancy then
    shares and never disposes). Async methods are the source of truth;
    ``sync_*`` twins serve code without an event loop. ``*_ex`` methods run inside the
    transaction of a session or connection you pass and never commit.

    ::

        async with Chancy("postgresql://localhost/app") as chancy:
            await chancy.migrate()
            await chancy.declare(Queue("default"))
            await chancy.push(Job.from_func(my_job))
    """

    class Executor(enum.StrEnum):
        """Import paths of the built-in executors, for ``Queue(executor=...)``."""

        Process = "chancy.executors.process.ProcessExecutor"
        Threaded = "chancy.executors.thread.ThreadedExecutor"
        Async = "chancy.executors.asyncex.AsyncExecutor"
        SubInterpreter = "chancy.executors.sub.SubInterpreterExecutor"

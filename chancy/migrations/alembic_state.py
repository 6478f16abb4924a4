"""Alembic's process-wide state, made safe for nested and concurrent chancy migrations.

Alembic exposes the command in progress through module-level proxies: ``alembic.context``
(the EnvironmentContext read by ``env.py``) and ``alembic.op`` (the Operations every
revision calls). Both are globals of the process, so:

- a command run from inside another one's ``env.py`` (``run_chancy_migrations``) removes
  the outer command's proxies when it finishes, instead of restoring them;
- two commands interleaving in one process (``asyncio.gather(a.migrate(), b.migrate())``,
  where each ``run_sync`` greenlet yields to the event loop at every query) would send one
  migration's DDL through the other's connection.

:func:`alembic_command` guards each command chancy runs against both.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Iterator

import alembic.context
import alembic.op
from sqlalchemy.util.concurrency import in_greenlet

try:  # SQLAlchemy 2.1 renamed await_only, still an alias there
    from sqlalchemy.util import await_
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as await_

__all__ = ["alembic_command"]

#: Commands in different threads take turns on this one.
_THREAD_LOCK = threading.RLock()
#: Commands in ``run_sync`` greenlets of one event loop take turns on that loop's lock,
#: waiting without blocking the loop (the turn holder needs the loop to make progress).
_LOOP_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.contextmanager
def alembic_command() -> Iterator[None]:
    """Run one Alembic command alone in the process, then restore any enclosing proxies."""
    loop_lock = None
    if in_greenlet():
        loop_lock = _LOOP_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        await_(loop_lock.acquire())
    try:
        with _THREAD_LOCK, _outer_proxies_restored():
            yield
    finally:
        if loop_lock is not None:
            loop_lock.release()


@contextlib.contextmanager
def _outer_proxies_restored() -> Iterator[None]:
    """Put back the ``alembic.context`` and ``alembic.op`` proxies of an enclosing run.

    Without this, the application's ``env.py`` has no ``context`` after our nested command,
    and its own command fails on exit with ``KeyError: 'script'``.
    """
    modules = (alembic.context, alembic.op)
    saved = [getattr(module, "_proxy", None) for module in modules]
    try:
        yield
    finally:
        for module, outer in zip(modules, saved, strict=True):
            current = getattr(module, "_proxy", None)
            if current is outer:
                continue
            if outer is not None:
                outer._install_proxy()
            elif current is not None:  # a failed nested run left its proxy behind
                current._remove_proxy()

"""The application object and its API, split by concern into mixins.

The ``_ex`` contract. Every write has two forms: ``x(...)`` runs in a transaction of its
own, and ``x_ex(cursor, ...)`` runs inside the caller's (an AsyncSession or
AsyncConnection, or psycopg's own connection or cursor) and never commits, rolls back or
closes it. ``x`` is exactly ``in_transaction(x_ex, ...)``, so the two cannot differ.
An ``_ex`` method also sends the notification workers need (``queue.pushed``,
``job.cancelled``, ``queue.paused``/``resumed``/``deleted``) through the same cursor:
NOTIFY is transactional, so workers hear of the change when, and only if, the caller
commits. The one exception is upstream's documented ``declare_ex``, which sends nothing
(``declare`` notifies ``queue.declared`` itself). Event names and payload keys live in
:mod:`chancy.events`.
"""

from __future__ import annotations

from chancy.app.chancy import Chancy
from chancy.app.logging import setup_default_logger

__all__ = ["Chancy", "setup_default_logger"]

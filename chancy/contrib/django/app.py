"""The chancy app the Django integration talks to, built from Django's settings.

The jobs tables are assumed to live in Django's ``default`` database (as upstream), with
the prefix ``settings.CHANCY_PREFIX`` (default ``chancy_``). Actions that need chancy's
async API (retry, cancel) open a short-lived app for the call: an async engine belongs to
one event loop, and each ``async_to_sync`` call from a Django view may run in a new one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings

from chancy.app import Chancy

T = TypeVar("T")


def chancy_prefix() -> str:
    return getattr(settings, "CHANCY_PREFIX", "chancy_")


def database_settings(alias: str = "default") -> dict[str, Any]:
    return dict(settings.DATABASES[alias])


def new_chancy(dsn: Any = None, prefix: str | None = None) -> Chancy:
    """A chancy app on ``dsn`` (default: Django's ``default`` database)."""
    return Chancy(
        dsn if dsn is not None else database_settings(),
        prefix=prefix or chancy_prefix(),
        no_default_plugins=True,
    )


def run_with_chancy(call: Callable[[Chancy], Awaitable[T]], **options: Any) -> T:
    """Run ``call(app)`` to completion from sync Django code, on a fresh app."""

    async def main() -> T:
        async with new_chancy(**options) as app:
            return await call(app)

    return async_to_sync(main)()

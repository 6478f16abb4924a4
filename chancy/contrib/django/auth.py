"""Log in to chancy's Api and dashboard with Django accounts (superusers only, as upstream).

::

    from chancy.contrib.django.auth import DjangoAuthBackend
    from chancy.plugins.api import Api

    Api(authentication_backend=DjangoAuthBackend())

Needs the ``web`` extra besides ``django``; the worker running the Api must have Django
set up (``django.setup()`` in the ``--app`` module).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import aauthenticate

from chancy.plugins.api.auth import AuthBackend

__all__ = ["DjangoAuthBackend"]


class DjangoAuthBackend(AuthBackend):
    """Accepts active Django superusers, checked with Django's own authentication backends."""

    async def login(self, request: Any, username: str, password: str) -> bool:
        user = await aauthenticate(username=username, password=password)
        return bool(user is not None and user.is_active and user.is_superuser)

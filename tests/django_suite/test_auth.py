"""DjangoAuthBackend lets Django superusers (and only them) into the Api."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User

pytest.importorskip("chancy.plugins.api.auth", reason="the web extra is not installed")

from chancy.contrib.django.auth import DjangoAuthBackend  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_active_superusers_log_in() -> None:
    User.objects.create_superuser("root", password="s3cret")
    User.objects.create_user("staff", password="s3cret", is_staff=True)
    User.objects.create_superuser("gone", password="s3cret", is_active=False)
    backend = DjangoAuthBackend()

    def login(username: str, password: str) -> bool:
        # async_to_sync runs Django's thread-sensitive ORM calls on this thread, whose
        # connection pytest-django manages (asyncio.run would leave one open elsewhere).
        return async_to_sync(backend.login)(None, username, password)

    assert login("root", "s3cret")
    assert not login("root", "wrong")
    assert not login("staff", "s3cret")
    assert not login("gone", "s3cret")
    assert not login("nobody", "s3cret")

"""Shared fixtures. Every test that touches Postgres gets its own random table prefix."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from chancy import Chancy
from chancy.testing import isolated_chancy, random_prefix

#: The Django suite runs in its own process (tests/contrib/test_django.py starts it).
collect_ignore = [] if os.environ.get("DJANGO_SETTINGS_MODULE") else ["django_suite"]

DSN = os.environ.get("CHANCY_TEST_DSN", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def dsn() -> str:
    return DSN


@pytest.fixture
def prefix() -> str:
    return random_prefix()


@pytest.fixture
async def chancy(dsn: str, prefix: str) -> AsyncIterator[Chancy]:
    """A migrated app on a fresh prefix, without default plugins; torn down afterwards."""
    async with isolated_chancy(dsn, prefix=prefix, no_default_plugins=True) as app:
        yield app

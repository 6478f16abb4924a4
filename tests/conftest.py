"""Shared fixtures. Every test that touches Postgres gets its own random table prefix."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from chancy import Chancy
from chancy.testing import random_prefix
from tests.prefix_pool import PrefixPool

DSN = os.environ.get("CHANCY_TEST_DSN", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def dsn() -> str:
    return DSN


@pytest.fixture
def prefix() -> str:
    return random_prefix()


@pytest.fixture(scope="session")
def prefix_pool(dsn: str) -> Iterator[PrefixPool]:
    pool = PrefixPool(dsn)
    yield pool
    asyncio.run(pool.close())


@pytest.fixture
async def chancy(dsn: str, prefix_pool: PrefixPool) -> AsyncIterator[Chancy]:
    """A migrated core-only app without default plugins, on a prefix no other test sees.

    The prefix comes from a pool of migrated ones and is emptied (or removed, if the test
    changed its schema) afterwards; see tests/prefix_pool.py.
    """
    prefix = await prefix_pool.acquire()
    app = Chancy(dsn, prefix=prefix, no_default_plugins=True)
    try:
        yield app
    finally:
        await app.__aexit__(None, None, None)
        await prefix_pool.release(prefix)

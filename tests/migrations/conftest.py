"""Fixtures for the migration tests: a sync engine, throwaway prefixes and apps on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.db.engine import to_url
from chancy.testing import random_prefix
from tests.migrations.helpers import drop_prefix


@pytest.fixture
def engine(dsn: str) -> Iterator[sa.Engine]:
    """A sync engine without a pool, for Migrator calls and catalog reads."""
    engine = sa.create_engine(to_url(dsn), poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def new_prefix(engine: sa.Engine) -> Iterator[Callable[..., str]]:
    """``new_prefix("tenant2")`` gives a fresh random prefix; its tables go at teardown.

    Cleanup drops whatever tables the prefix has, so a test that fails half-way through
    a migration leaves nothing behind either.
    """
    made: list[str] = []

    def make(stem: str = "t") -> str:
        made.append(random_prefix(stem))
        return made[-1]

    yield make
    with engine.begin() as conn:
        for prefix in made:
            drop_prefix(conn, prefix)


@pytest.fixture
async def make_app(dsn: str) -> AsyncIterator[Callable[[str], Chancy]]:
    """``make_app(prefix)`` gives an unmigrated app without plugins, closed at teardown."""
    apps: list[Chancy] = []

    def make(prefix: str) -> Chancy:
        apps.append(Chancy(dsn, prefix=prefix, no_default_plugins=True))
        return apps[-1]

    yield make
    for app in apps:
        await app.__aexit__(None, None, None)

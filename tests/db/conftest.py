"""Fixtures for the database tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from chancy import Chancy
from tests.db.helpers import Listener
from tests.prefix_pool import PrefixPool, pooled_chancy


@pytest.fixture
async def listener(chancy: Chancy) -> AsyncIterator[Listener]:
    """LISTENing on the app's channel before the test pushes anything."""
    listening = await Listener.open(chancy)
    try:
        yield listening
    finally:
        await listening.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_chancy(dsn: str, prefix_pool: PrefixPool) -> AsyncIterator[Chancy]:
    """One migrated app for every ``tx`` test of a module (see ``tx``)."""
    async with pooled_chancy(dsn, no_default_plugins=True) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="module")
async def tx(shared_chancy: Chancy) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test.

    SQLAlchemy's "joining a session into an external transaction" recipe: the session's
    own commits and rollbacks only release or roll back savepoints, so the test may
    commit as an application would, and nothing it wrote outlives it. For tests that
    use only the ``_ex`` API and read back through this session: anything done through
    the app's own transactions (``push``, ``get_job``) would commit for the whole
    module, and other connections never see the rows. It shares ``shared_chancy``'s
    prefix with the module's other ``tx`` tests, so it skips the per-test app and prefix
    cleanup of ``chancy`` (about 0.1 s a test). Mark the test ``IN_TX``
    (tests/db/helpers.py): it runs on the module's event loop, with the app.
    """
    async with shared_chancy.engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()

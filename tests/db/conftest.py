"""Fixtures for the database tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chancy import Chancy
from tests.db.helpers import Listener


@pytest.fixture
async def listener(chancy: Chancy) -> AsyncIterator[Listener]:
    """LISTENing on the app's channel before the test pushes anything."""
    listening = await Listener.open(chancy)
    try:
        yield listening
    finally:
        await listening.close()

"""Shared fixtures. Every test that touches Postgres gets its own random table prefix.

The tests use ``CHANCY_TEST_DSN`` (default: the local server at 127.0.0.1:5432). When
nothing answers at that address, they start an embedded Postgres server for the session
instead (the ``embedded`` extra, part of ``dev``), so the README's test command passes on a
machine without a Postgres server. A server that answers but refuses us is not replaced:
that is a configuration error worth seeing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.db import embedded
from chancy.errors import ConfigurationError
from chancy.testing import random_prefix
from tests.prefix_pool import PrefixPool, close_shared, pooled_chancy, shared_pool

#: The Django suite runs in its own process (tests/contrib/test_django.py starts it).
collect_ignore = [] if os.environ.get("DJANGO_SETTINGS_MODULE") else ["django_suite"]

CONFIGURED_DSN = os.environ.get("CHANCY_TEST_DSN", "postgresql://root@127.0.0.1:5432/test")


def server_answers(dsn: str, timeout: float = 1.0) -> bool:
    """Does anything accept connections at the DSN's address (TCP host:port or socket)?"""
    url = sa.make_url(dsn)
    port = url.port or 5432
    host = url.host or str(url.query.get("host") or "/var/run/postgresql")
    try:
        if host.startswith("/"):
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def resolve_test_dsn() -> tuple[str, str]:
    """The DSN the tests use, and a line for pytest's header saying which server it is."""
    if server_answers(CONFIGURED_DSN):
        return CONFIGURED_DSN, f"chancy: Postgres at {CONFIGURED_DSN}"
    try:
        # A directory of its own, so tests never touch the data of your Chancy() apps.
        dsn = embedded.embedded_dsn(embedded.default_path().with_name("postgres-tests"))
    except ConfigurationError as exc:
        return CONFIGURED_DSN, f"chancy: nothing answers at {CONFIGURED_DSN}; {exc}"
    return dsn, f"chancy: nothing answers at {CONFIGURED_DSN}; using embedded Postgres {dsn}"


DSN, SERVER_NOTE = resolve_test_dsn()


def pytest_report_header() -> str:
    return SERVER_NOTE


@pytest.fixture(scope="session")
def dsn() -> str:
    return DSN


@pytest.fixture
def prefix() -> str:
    return random_prefix()


@pytest.fixture(scope="session", autouse=True)
def prefix_pool(dsn: str) -> Iterator[PrefixPool]:
    """The process's pool of migrated prefixes (tests/prefix_pool.py), emptied at the end."""
    yield shared_pool(dsn)
    asyncio.run(close_shared())


@pytest.fixture
async def chancy(dsn: str, prefix_pool: PrefixPool) -> AsyncIterator[Chancy]:
    """A migrated core-only app without default plugins, on a prefix no other test sees.

    The prefix comes from a pool of migrated ones and is emptied (or removed, if the test
    changed its schema) afterwards; see tests/prefix_pool.py.
    """
    async with pooled_chancy(dsn, no_default_plugins=True) as app:
        yield app


@pytest.fixture(autouse=True)
def chancy_logger() -> Iterator[logging.Logger]:
    """Put the ``chancy`` logger back after each test: a ``chancy`` command run in-process
    installs a handler (on the runner's stream, closed afterwards), which later tests of
    the library's logging convention must not see."""
    logger = logging.getLogger("chancy")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)

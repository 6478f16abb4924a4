"""Fixtures of the API tests: a migrated app with the Api plugin, its ASGI app and a client.

Requests go through httpx's ASGITransport straight into ``build_starlette_app``, on the
test's own event loop, against the real database. The worker handed to the app is built
but not started (as ``chancy worker web`` does) unless a test starts one itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from chancy import Chancy
from chancy.plugins.api import Api, SimpleAuthBackend
from chancy.plugins.cron import Cron
from chancy.plugins.leadership import Leadership
from chancy.plugins.metrics import Metrics
from chancy.plugins.workflow import WorkflowPlugin
from chancy.worker import Worker
from tests.prefix_pool import pooled_chancy

USER, PASSWORD = "admin", "correct horse battery staple"
SECRET = "test-secret-key-0123456789"


def make_api(**options: Any) -> Api:
    settings: dict[str, Any] = {
        "authentication_backend": SimpleAuthBackend({USER: PASSWORD}),
        "secret_key": SECRET,
        "port": 0,
    }
    settings.update(options)
    return Api(**settings)


@pytest.fixture
def api() -> Api:
    return make_api()


@pytest.fixture
async def app(dsn: str, api: Api) -> AsyncIterator[Chancy]:
    plugins = [api, Leadership(), Metrics(), WorkflowPlugin(), Cron()]
    async with pooled_chancy(dsn, plugins=plugins, no_default_plugins=True) as a:
        yield a


@pytest.fixture
async def worker(app: Chancy) -> AsyncIterator[Worker]:
    """A worker object that is never started (the API only reads its hub and id)."""
    built = Worker(app, register_signal_handlers=False)
    try:
        yield built
    finally:
        await built.engine.dispose()


@pytest.fixture
async def client(app: Chancy, worker: Worker, api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client of the app."""
    asgi = api.build_starlette_app(worker, app)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://chancy.test") as c:
        yield c


async def login(client: httpx.AsyncClient, prefix: str = "") -> str:
    response = await client.post(
        f"{prefix}/api/v1/login", json={"username": USER, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
async def authed(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client, logged in."""
    client.headers["Authorization"] = f"Bearer {await login(client)}"
    return client

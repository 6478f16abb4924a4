"""The Api as a worker runs it: uvicorn on a real socket, and the live event websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chancy import Chancy, Job
from chancy.plugins.api import Api
from chancy.worker import Worker
from tests.api.conftest import PASSWORD, USER
from tests.plugins.helpers import started

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def served(app: Chancy, api: Api) -> AsyncIterator[tuple[Worker, str]]:
    async with started(app) as worker:
        async with asyncio.timeout(20):
            await api.serving.wait()
        yield worker, f"127.0.0.1:{api.port}"


async def test_worker_serves_the_api(served: tuple[Worker, str]) -> None:
    worker, address = served
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        assert (await client.get("/health")).json() == {"status": "healthy"}
        login = await client.post("/api/v1/login", json={"username": USER, "password": PASSWORD})
        token = login.json()["token"]
        system = await client.get("/api/v1/system", headers={"Authorization": f"Bearer {token}"})
        assert system.json()["worker"]["worker_id"] == worker.worker_id
        page = await client.get("/jobs/some/page")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]


async def test_event_stream(app: Chancy, served: tuple[Worker, str]) -> None:
    worker, address = served
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        login = await client.post("/api/v1/login", json={"username": USER, "password": PASSWORD})
        token = login.json()["token"]
    async with connect(f"ws://{address}/api/v1/ws?token={token}") as ws:
        hello = json.loads(await ws.recv())
        assert hello["event"] == "chancy.connected"
        assert hello["data"] == {"worker_id": worker.worker_id, "user": USER}
        ref = await app.push(Job(func="tests.plugins.plugin_jobs.ok"))
        seen = []
        async with asyncio.timeout(30):
            while not any(
                e["event"] == "worker.jobs.updated"
                and any(j["id"] == str(ref.identifier) for j in e["data"]["jobs"])
                for e in seen
            ):
                seen.append(json.loads(await ws.recv()))
        assert {"event": "queue.pushed", "data": {"q": "default"}} in seen


@pytest.mark.parametrize("query", ["", "?token=", "?token=forged.token.value"])
async def test_event_stream_needs_a_valid_token(served: tuple[Worker, str], query: str) -> None:
    _, address = served
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://{address}/api/v1/ws{query}"):
            pass
    assert info.value.response.status_code == 403


async def test_a_busy_port_does_not_stop_the_worker(app: Chancy, api: Api) -> None:
    """The second Api cannot bind; its worker logs, retries, and keeps running jobs."""
    async with started(app):
        async with asyncio.timeout(20):
            await api.serving.wait()
        taken = Api(authentication_backend=api.authentication_backend, port=api.port)
        other = Chancy(app.url, prefix=app.prefix, plugins=[taken], no_default_plugins=True)
        async with other, started(other) as second:
            ref = await other.push(Job(func="tests.plugins.plugin_jobs.ok"))
            job = await other.wait_for_job(ref, interval=0.05, timeout=30)
            assert job is not None and job.state == "succeeded"
            assert not taken.serving.is_set() and not second.shutdown_event.is_set()

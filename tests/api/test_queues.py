"""Queue endpoints: list, create, read, partial update, delete, pause and resume."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from chancy import Chancy, Job, Queue
from tests.helpers import rows

pytestmark = pytest.mark.timeout(60)


async def test_list_and_read(app: Chancy, authed: httpx.AsyncClient) -> None:
    await app.declare(Queue("alpha", concurrency=3, tags={"web.*"}))
    listed = (await authed.get("/api/v1/queues")).json()
    assert [q["name"] for q in listed] == ["alpha"]
    assert listed[0]["concurrency"] == 3 and listed[0]["tags"] == ["web.*"]
    one = await authed.get("/api/v1/queues/alpha")
    assert one.status_code == 200 and one.json() == listed[0]
    missing = await authed.get("/api/v1/queues/nope")
    assert missing.status_code == 404 and "not found" in missing.json()["error"]


async def test_create(app: Chancy, authed: httpx.AsyncClient) -> None:
    body = {"name": "mail", "concurrency": 2, "executor": "Async", "rate_limit": 10,
            "rate_limit_window": 60, "tags": ["a", "b"]}  # fmt: skip
    response = await authed.post("/api/v1/queues", json=body)
    assert response.status_code == 201, response.text
    stored = await app.get_queue("mail")
    assert stored.concurrency == 2 and stored.rate_limit == 10
    assert stored.executor == Chancy.Executor.Async
    assert stored.tags == {"a", "b"}
    again = await authed.post("/api/v1/queues", json={"name": "mail"})
    assert again.status_code == 409 and "PATCH" in again.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"concurrency": 1}, "needs a name"),
        ({"name": "q", "concurrency": 0}, "concurrency"),
        ({"name": "q", "colour": "red"}, "Unknown queue field"),
        ({"name": "q", "rate_limit": 5}, "rate_limit_window"),
        ({"name": "q", "tags": "abc"}, "tags must be a list"),
        ({"name": "q", "tags": ["("]}, "regular expressions"),
        ({"name": "q", "resume_at": "2030-01-01T00:00:00"}, "time zone"),
        ({"name": "q", "executor_options": [1]}, "executor_options"),
        ({"name": "q", "executor": "nodots"}, "executor"),
    ],
)
async def test_create_rejects_bad_queues(
    authed: httpx.AsyncClient, body: dict, message: str
) -> None:
    response = await authed.post("/api/v1/queues", json=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


async def test_create_rejects_malformed_json(authed: httpx.AsyncClient) -> None:
    response = await authed.post("/api/v1/queues", content=b'{"name": ')
    assert response.status_code == 400


async def test_partial_update_keeps_other_fields(app: Chancy, authed: httpx.AsyncClient) -> None:
    await app.declare(Queue("q", concurrency=4, tags={"x"}, polling_interval=7))
    response = await authed.patch("/api/v1/queues/q", json={"concurrency": 9})
    assert response.status_code == 200, response.text
    stored = await app.get_queue("q")
    assert (stored.concurrency, stored.tags, stored.polling_interval) == (9, {"x"}, 7)
    bad = await authed.patch("/api/v1/queues/q", json={"concurrency": -1})
    assert bad.status_code == 422
    renamed = await authed.patch("/api/v1/queues/q", json={"name": "other"})
    assert renamed.status_code == 422
    assert (await authed.patch("/api/v1/queues/none", json={})).status_code == 404


async def test_delete_keeps_jobs_unless_purged(app: Chancy, authed: httpx.AsyncClient) -> None:
    for name in ("a", "b"):
        await app.declare(Queue(name))
        await app.push(Job(func="x.y", queue=name))
    response = await authed.delete("/api/v1/queues/a")
    assert response.status_code == 200 and response.json()["purged_jobs"] is False
    response = await authed.delete("/api/v1/queues/b", params={"purge_jobs": "true"})
    assert response.status_code == 200
    assert [q.name for q in await app.get_all_queues()] == []
    assert sorted(r.queue for r in (await rows(app)).values()) == ["a"]
    assert (await authed.delete("/api/v1/queues/a")).status_code == 404
    bad = await authed.delete("/api/v1/queues/a", params={"purge_jobs": "maybe"})
    assert bad.status_code == 422


async def test_pause_with_resume_at_then_resume(app: Chancy, authed: httpx.AsyncClient) -> None:
    await app.declare(Queue("q"))
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(microsecond=0)
    response = await authed.post("/api/v1/queues/q/pause", json={"resume_at": when.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "paused"
    stored = await app.get_queue("q")
    assert stored.state == Queue.State.PAUSED and stored.resume_at == when
    response = await authed.post("/api/v1/queues/q/resume")
    assert response.json()["state"] == "active"
    assert (await app.get_queue("q")).resume_at is None
    # Without a body the pause is indefinite.
    assert (await authed.post("/api/v1/queues/q/pause")).json()["resume_at"] is None


@pytest.mark.parametrize(
    "body", [{"resume_at": "tomorrow"}, {"resume_at": 5}, {"until": "2030-01-01T00:00:00Z"}]
)
async def test_pause_rejects_bad_resume_at(
    app: Chancy, authed: httpx.AsyncClient, body: dict
) -> None:
    await app.declare(Queue("q"))
    response = await authed.post("/api/v1/queues/q/pause", json=body)
    assert response.status_code == 422
    assert (await app.get_queue("q")).state == Queue.State.ACTIVE


async def test_pause_and_resume_unknown_queue(authed: httpx.AsyncClient) -> None:
    assert (await authed.post("/api/v1/queues/none/pause")).status_code == 404
    assert (await authed.post("/api/v1/queues/none/resume")).status_code == 404

"""Job endpoints: the browser with its filters and pages, detail, actions and batches."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import sqlalchemy as sa

from chancy import Chancy, Job
from chancy.job import Reference
from tests.helpers import rows, update_jobs
from tests.plugins.helpers import push_all

pytestmark = pytest.mark.timeout(60)


async def push(app: Chancy, n: int, **fields: object) -> list[Reference]:
    return await push_all(app, [Job(func="tests.api.jobs.work", **fields) for _ in range(n)])  # type: ignore[arg-type]


async def test_list_defaults_to_pending_newest_first(
    app: Chancy, authed: httpx.AsyncClient
) -> None:
    refs = await push(app, 3)
    done = await push(app, 1)
    await update_jobs(app, done, state="succeeded")
    listed = (await authed.get("/api/v1/jobs")).json()
    assert [j["id"] for j in listed] == [str(r.identifier) for r in reversed(refs)]
    assert set(listed[0]) >= {"id", "func", "queue", "state", "kwargs", "errors", "result"}
    everything = (await authed.get("/api/v1/jobs", params={"state": "all"})).json()
    assert len(everything) == 4
    two = (await authed.get("/api/v1/jobs", params={"state": "succeeded,pending"})).json()
    assert len(two) == 4


async def test_queue_func_and_filters(app: Chancy, authed: httpx.AsyncClient) -> None:
    await push_all(
        app,
        [
            Job(func="app.mail.send_welcome", queue="mail", priority=1),
            Job(func="app.mail.send_digest", queue="mail", priority=9),
            Job(func="app.reports.build", queue="reports", priority=9),
        ],
    )

    async def funcs(**params: str) -> list[str]:
        response = await authed.get("/api/v1/jobs", params=params)
        assert response.status_code == 200, response.text
        return sorted(j["func"] for j in response.json())

    assert await funcs(queue="mail") == ["app.mail.send_digest", "app.mail.send_welcome"]
    assert await funcs(func="SEND_") == ["app.mail.send_digest", "app.mail.send_welcome"]
    high = json.dumps([["priority", ">=", 5]])
    assert await funcs(filters=high) == ["app.mail.send_digest", "app.reports.build"]
    both = json.dumps([["priority", ">=", 5], ["func", "contains", "mail"]])
    assert await funcs(filters=both) == ["app.mail.send_digest"]
    none = json.dumps([["unique_key", "==", None]])
    assert len(await funcs(filters=none)) == 3
    since = json.dumps([["created_at", ">", "2000-01-01T00:00:00Z"]])
    assert len(await funcs(filters=since)) == 3


async def test_pagination(app: Chancy, authed: httpx.AsyncClient) -> None:
    refs = await push(app, 5)
    newest_first = [str(r.identifier) for r in reversed(refs)]
    seen: list[str] = []
    before = None
    while True:
        params = {"limit": "2", "pagination": "true"}
        if before:
            params["before"] = before
        page = (await authed.get("/api/v1/jobs", params=params)).json()
        seen += [j["id"] for j in page["jobs"]]
        if not page["has_more"]:
            assert page["next_before"] is None
            break
        before = page["next_before"]
    assert seen == newest_first
    # Without pagination the same parameters give the bare list.
    plain = (await authed.get("/api/v1/jobs", params={"limit": "2", "before": before})).json()
    assert isinstance(plain, list)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit must be between 1 and 100"),
        ({"limit": "101"}, "limit must be between 1 and 100"),
        ({"limit": "ten"}, "limit must be an integer"),
        ({"before": "not-a-uuid"}, "before must be a UUID"),
        ({"state": "exploded"}, "Unknown state"),
        ({"pagination": "perhaps"}, "pagination"),
        ({"filters": "[[1,2"}, "JSON list"),
        ({"filters": '{"a": 1}'}, "JSON list"),
        ({"filters": '[["password", "==", "x"]]'}, "Unknown filter field 'password'"),
        ({"filters": '[["priority", "LIKE", 1]]'}, "Unknown filter operator 'LIKE'"),
        ({"filters": '[["priority", "==", "high"]]'}, "needs an integer"),
        ({"filters": '[["priority", ">", null]]'}, "null only works"),
        ({"filters": '[["id", "==", "xyz"]]'}, "must be a UUID"),
        ({"filters": '[["created_at", ">", "yesterday"]]'}, "ISO 8601"),
        ({"filters": '[["func", "contains", 5]]'}, "needs a string"),
        ({"filters": '[["func", "=="]]'}, "[field, op, value]"),
        ({"filters": json.dumps([["priority", ">", 1]] * 21)}, "At most 20"),
    ],
)
async def test_bad_list_parameters_are_422(
    authed: httpx.AsyncClient, params: dict, message: str
) -> None:
    response = await authed.get("/api/v1/jobs", params=params)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


async def test_functions(app: Chancy, authed: httpx.AsyncClient) -> None:
    await push_all(app, [Job(func="b.f"), Job(func="a.f"), Job(func="b.f")])
    assert (await authed.get("/api/v1/jobs/functions")).json() == ["a.f", "b.f"]


async def test_detail(app: Chancy, authed: httpx.AsyncClient) -> None:
    [ref] = await push(app, 1, kwargs={"n": 1}, meta={"m": True}, unique_key="u1")
    job = (await authed.get(f"/api/v1/jobs/{ref.identifier}")).json()
    assert job["id"] == str(ref.identifier)
    assert (job["kwargs"], job["meta"], job["unique_key"]) == ({"n": 1}, {"m": True}, "u1")
    missing = await authed.get(f"/api/v1/jobs/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"error": "Job not found"}


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_non_uuid_job_id_is_422(authed: httpx.AsyncClient, method: str) -> None:
    response = await authed.request(method, "/api/v1/jobs/12345")
    assert response.status_code == 422
    assert "UUID" in response.json()["error"]
    for action in ("retry", "cancel"):
        response = await authed.post(f"/api/v1/jobs/not-a-uuid/{action}")
        assert response.status_code == 422


async def test_delete(app: Chancy, authed: httpx.AsyncClient) -> None:
    pending, running = await push(app, 2)
    await update_jobs(app, [running], state="running")
    assert (await authed.delete(f"/api/v1/jobs/{pending.identifier}")).status_code == 200
    conflict = await authed.delete(f"/api/v1/jobs/{running.identifier}")
    assert conflict.status_code == 409 and "running" in conflict.json()["error"]
    assert (await authed.delete(f"/api/v1/jobs/{pending.identifier}")).status_code == 404
    assert list(await rows(app)) == [running.identifier]


async def test_retry(app: Chancy, authed: httpx.AsyncClient) -> None:
    failed, pending = await push(app, 2)
    await update_jobs(app, [failed], state="failed", attempts=1, completed_at=sa.func.now())
    response = await authed.post(f"/api/v1/jobs/{failed.identifier}/retry")
    assert response.status_code == 200, response.text
    job = response.json()["job"]
    assert (job["state"], job["attempts"], job["completed_at"]) == ("retrying", 0, None)
    conflict = await authed.post(f"/api/v1/jobs/{pending.identifier}/retry")
    assert conflict.status_code == 409 and "pending" in conflict.json()["error"]
    assert (await authed.post(f"/api/v1/jobs/{uuid.uuid4()}/retry")).status_code == 404


async def test_cancel(app: Chancy, authed: httpx.AsyncClient) -> None:
    pending, done = await push(app, 2)
    await update_jobs(app, [done], state="succeeded")
    response = await authed.post(f"/api/v1/jobs/{pending.identifier}/cancel")
    assert response.status_code == 200
    assert response.json()["job"]["state"] == "failed"
    conflict = await authed.post(f"/api/v1/jobs/{done.identifier}/cancel")
    assert conflict.status_code == 409
    assert (await authed.post(f"/api/v1/jobs/{uuid.uuid4()}/cancel")).status_code == 404


async def test_batch_actions(app: Chancy, authed: httpx.AsyncClient) -> None:
    failed, succeeded, pending, running = await push(app, 4)
    await update_jobs(app, [failed], state="failed")
    await update_jobs(app, [succeeded], state="succeeded")
    await update_jobs(app, [running], state="running")
    ghost = uuid.uuid4()
    ids = [str(r.identifier) for r in (failed, succeeded, pending, running)] + [str(ghost)]

    response = await authed.post("/api/v1/jobs", json={"action": "retry", "ids": ids})
    assert response.status_code == 200, response.text
    result = response.json()
    status = {r["id"]: r["status"] for r in result["results"]}
    expected = ["completed", "completed", "skipped", "skipped", "failed"]
    assert status == dict(zip(ids, expected, strict=True))
    assert (result["completed"], result["skipped"], result["failed"]) == (2, 2, 1)
    states = {k: r.state for k, r in (await rows(app)).items()}
    assert states[failed.identifier] == states[succeeded.identifier] == "retrying"

    result = (await authed.post("/api/v1/jobs", json={"action": "cancel", "ids": ids})).json()
    assert result["completed"] == 4 and result["failed"] == 1
    result = (await authed.post("/api/v1/jobs", json={"action": "purge", "ids": ids})).json()
    assert result["completed"] == 4
    assert await rows(app) == {}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "explode", "ids": ["00000000-0000-0000-0000-000000000000"]}, 422),
        ({"action": "retry", "ids": []}, 422),
        ({"action": "retry", "ids": "abc"}, 422),
        ({"action": "retry", "ids": ["abc"]}, 422),
        ({"action": "retry", "ids": [str(uuid.uuid4()) for _ in range(1001)]}, 422),
    ],
)
async def test_bad_batches(authed: httpx.AsyncClient, body: dict, status: int) -> None:
    response = await authed.post("/api/v1/jobs", json=body)
    assert response.status_code == status
    assert "error" in response.json()


async def test_batch_malformed_json_is_400(authed: httpx.AsyncClient) -> None:
    response = await authed.post(
        "/api/v1/jobs", content=b"action=retry", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400


async def test_unknown_api_path_is_json_404(authed: httpx.AsyncClient) -> None:
    response = await authed.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "No API endpoint" in response.json()["error"]


async def test_wrong_method_is_json_405(authed: httpx.AsyncClient) -> None:
    response = await authed.put("/api/v1/jobs")
    assert response.status_code == 405
    assert "Method Not Allowed" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/api/v1/jobs", {"queue": "a\x00b"}),
        ("GET", "/api/v1/jobs", {"func": "a\x00b"}),
        ("GET", "/api/v1/jobs", {"filters": json.dumps([["queue", "==", "a\x00"]])}),
        ("GET", "/api/v1/jobs", {"filters": json.dumps([["priority", ">", 10**30]])}),
        ("GET", "/api/v1/queues/a%00b", {}),
    ],
)
async def test_values_the_database_refuses_are_422(
    authed: httpx.AsyncClient, method: str, path: str, params: dict
) -> None:
    response = await authed.request(method, path, params=params)
    assert response.status_code == 422, response.text
    assert "error" in response.json()

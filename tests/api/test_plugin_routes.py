"""Routes of the core (configuration, plugins, system, workers) and of plugins: workflows,
crons and metrics, which each plugin adds through its ``api_plugin()``."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from chancy import Chancy, Job
from chancy.plugins.cron import Cron
from chancy.plugins.workflow import Workflow, WorkflowPlugin
from tests.plugins.helpers import register_worker

pytestmark = pytest.mark.timeout(60)


async def test_configuration_and_plugins(app: Chancy, authed: httpx.AsyncClient) -> None:
    config = (await authed.get("/api/v1/configuration")).json()
    assert set(config["plugins"]) == {"Api", "Leadership", "Metrics", "WorkflowPlugin", "Cron"}
    assert config["prefix"] == app.prefix
    plugins = {p["identifier"]: p for p in (await authed.get("/api/v1/plugins")).json()}
    assert plugins["chancy.workflow_plugin"]["dependencies"] == ["chancy.leadership"]
    assert plugins["chancy.api"]["tables"] == [f"{app.prefix}api_revoked_tokens"]
    assert plugins["chancy.cron"]["api_plugin"] == "chancy.plugins.cron.api.CronApiPlugin"


async def test_system(app: Chancy, authed: httpx.AsyncClient) -> None:
    system = (await authed.get("/api/v1/system")).json()
    assert system["prefix"] == app.prefix
    assert system["postgres_version"].split(".")[0].isdigit()
    assert system["python_version"] and system["worker"]["is_leader"] is False


async def test_workers(app: Chancy, authed: httpx.AsyncClient) -> None:
    await register_worker(app, "w-1", expires_in=60)
    workers = (await authed.get("/api/v1/workers")).json()
    assert [(w["worker_id"], w["is_leader"]) for w in workers] == [("w-1", False)]


async def test_workflows(app: Chancy, authed: httpx.AsyncClient) -> None:
    workflow = Workflow("nightly").add("a", Job(func="x.a")).add("b", Job(func="x.b"), ["a"])
    ident = await WorkflowPlugin.push(app, workflow)
    listed = (await authed.get("/api/v1/workflows")).json()
    assert [(w["id"], w["name"]) for w in listed] == [(str(ident), "nightly")]
    detail = (await authed.get(f"/api/v1/workflows/{ident}")).json()
    assert detail["steps"]["b"]["dependencies"] == ["a"]
    assert detail["steps"]["a"]["state"] == "pending"  # pushed at once, no dependencies
    assert detail["steps"]["b"]["state"] is None
    assert detail["steps"]["a"]["job"]["func"] == "x.a"
    filtered = await authed.get("/api/v1/workflows", params={"state": "completed"})
    assert filtered.json() == []
    missing = await authed.get(f"/api/v1/workflows/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"error": "Workflow not found"}
    for path, params in (
        ("/api/v1/workflows/xyz", {}),
        ("/api/v1/workflows", {"state": "sleeping"}),
        ("/api/v1/workflows", {"limit": "0"}),
    ):
        response = await authed.get(path, params=params)
        assert response.status_code == 422, (path, params)


async def test_crons(app: Chancy, authed: httpx.AsyncClient) -> None:
    await Cron.schedule(app, "*/5 * * * *", Job(func="x.tick", unique_key="tick"))
    [cron] = (await authed.get("/api/v1/crons")).json()
    assert (cron["unique_key"], cron["cron"], cron["timezone"]) == (
        "tick",
        "*/5 * * * *",
        "Etc/UTC",
    )
    assert cron["job"]["func"] == "x.tick" and cron["last_run"] is None
    assert dt.datetime.fromisoformat(cron["next_run"]) > dt.datetime.now(dt.UTC)


@pytest.fixture
async def recorded(app: Chancy) -> None:
    metrics = app.plugins["chancy.metrics"]
    await metrics.increment_counter("queue:default:throughput", 3)
    await metrics.increment_counter("queue:mail:throughput", 1)
    await metrics.record_histogram_value("job:x.y:execution_time", 0.5)
    await metrics.flush(app)


@pytest.mark.usefixtures("recorded")
async def test_metrics_catalogue(authed: httpx.AsyncClient) -> None:
    listed = (await authed.get("/api/v1/metrics")).json()
    assert listed["categories"] == {"job": ["x.y"], "queue": ["default", "mail"]}
    assert listed["count"] == 3
    assert listed["types"]["job:x.y:execution_time"] == "histogram"


@pytest.mark.usefixtures("recorded")
async def test_metrics_windows(authed: httpx.AsyncClient) -> None:
    data = (await authed.get("/api/v1/metrics/queue", params={"resolution": "1min"})).json()
    assert set(data) == {"queue:default:throughput", "queue:mail:throughput"}
    point = data["queue:default:throughput"]["data"][0]
    assert point["value"] == 3 and data["queue:default:throughput"]["type"] == "counter"
    for params in (
        {"range": "2h", "resolution": "1hour"},
        {"limit": "5"},
        {"start": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()},
    ):
        data = (await authed.get("/api/v1/metrics/queue:default", params=params)).json()
        assert list(data) == ["queue:default:throughput"], params
    hist = (await authed.get("/api/v1/metrics/job:x.y:execution_time")).json()
    assert hist["job:x.y:execution_time"]["data"][0]["value"]["count"] == 1
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    empty = await authed.get("/api/v1/metrics/queue", params={"start": "2000-01-01T00:00:00Z"})
    assert empty.status_code == 422  # 26 years of 5-minute buckets is too many
    late = await authed.get("/api/v1/metrics/queue", params={"start": future, "resolution": "1day"})
    assert late.json()["queue:default:throughput"]["data"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"resolution": "2min"}, "Unknown resolution"),
        ({"range": "forever"}, "range must look like"),
        ({"range": "0h"}, "range must look like"),
        ({"range": "30d", "resolution": "1min"}, "at most 1000"),
        ({"limit": "1001"}, "limit must be between"),
        ({"start": "yesterday"}, "ISO 8601"),
        ({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "end must be after"),
    ],
)
async def test_bad_metric_windows_are_422(
    authed: httpx.AsyncClient, params: dict, message: str
) -> None:
    response = await authed.get("/api/v1/metrics/queue", params=params)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]

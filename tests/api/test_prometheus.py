"""``/metrics``: a scrape parsed with prometheus_client's own parser."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from chancy import Chancy, Job, Queue
from chancy.worker import Worker
from tests.api.conftest import make_api
from tests.helpers import update_jobs
from tests.plugins.helpers import push_all, register_worker

pytestmark = pytest.mark.timeout(60)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def test_scrape(app: Chancy, authed: httpx.AsyncClient) -> None:
    await app.declare(Queue("default"))
    await app.declare(Queue("idle"))
    await app.pause_queue("idle")
    ready = await push_all(app, [Job(func="x.a") for _ in range(3)])
    later = await push_all(app, [Job(func="x.a")])
    done = await push_all(app, [Job(func="x.b") for _ in range(2)])
    failed = await push_all(app, [Job(func="x.c")])
    now = sa.func.now()
    await update_jobs(
        app,
        ready,
        scheduled_at=now - dt.timedelta(seconds=90),
        created_at=now - dt.timedelta(seconds=90),
    )
    await update_jobs(app, later, scheduled_at=now + dt.timedelta(hours=1))
    await update_jobs(
        app,
        done,
        state="succeeded",
        scheduled_at=now - dt.timedelta(seconds=10),
        started_at=now - dt.timedelta(seconds=7),
        completed_at=now - dt.timedelta(seconds=5),
    )
    await update_jobs(
        app,
        failed,
        state="failed",
        scheduled_at=now - dt.timedelta(seconds=1),
        started_at=now - dt.timedelta(seconds=1),
        completed_at=now,
    )
    await register_worker(app, "w-lead", expires_in=60)
    await register_worker(app, "w-other", expires_in=60)
    leader = app.models.Leader.__table__
    async with app.engine.begin() as conn:
        await conn.execute(
            sa.insert(leader).values(
                id=1, worker_id="w-lead", expires_at=now + dt.timedelta(minutes=1)
            )
        )

    response = await authed.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    q = (("queue", "default"),)
    assert got[("chancy_jobs", (("queue", "default"), ("state", "pending")))] == 4
    assert got[("chancy_jobs", (("queue", "default"), ("state", "succeeded")))] == 2
    assert got[("chancy_queue_depth", q)] == 3  # the scheduled one is not ready yet
    assert 85 <= got[("chancy_queue_oldest_job_age_seconds", q)] < 200
    assert got[("chancy_queue_depth", (("queue", "idle"),))] == 0
    assert got[("chancy_queue_oldest_job_age_seconds", (("queue", "idle"),))] == 0
    assert got[("chancy_queue_paused", (("queue", "idle"),))] == 1
    assert got[("chancy_queue_paused", q)] == 0
    per_second = got[
        ("chancy_throughput_jobs_per_second", (("queue", "default"), ("state", "succeeded")))
    ]
    assert per_second == pytest.approx(2 / 300)
    # Run times: 2 s twice and 1 s once; waits: 3 s twice and 0 s once.
    assert got[("chancy_job_run_seconds_bucket", (("le", "1.0"), ("queue", "default")))] == 1
    assert got[("chancy_job_run_seconds_bucket", (("le", "2.5"), ("queue", "default")))] == 3
    assert got[("chancy_job_run_seconds_bucket", (("le", "+Inf"), ("queue", "default")))] == 3
    assert got[("chancy_job_run_seconds_gsum", q)] == pytest.approx(5)
    assert got[("chancy_job_wait_seconds_bucket", (("le", "0.01"), ("queue", "default")))] == 1
    assert got[("chancy_job_wait_seconds_bucket", (("le", "5.0"), ("queue", "default")))] == 3
    assert got[("chancy_workers", ())] == 2
    assert got[("chancy_worker_is_leader", (("worker_id", "w-lead"),))] == 1
    assert got[("chancy_worker_is_leader", (("worker_id", "w-other"),))] == 0
    assert got[("chancy_leader_present", ())] == 1
    assert "# TYPE chancy_job_run_seconds histogram" in response.text


async def test_scrape_of_an_empty_installation(authed: httpx.AsyncClient) -> None:
    got = samples((await authed.get("/metrics")).text)
    assert got[("chancy_workers", ())] == 0
    assert got[("chancy_leader_present", ())] == 0


async def test_metrics_without_auth_when_configured(app: Chancy, worker: Worker) -> None:
    for metrics_auth, status in ((True, 401), (False, 200)):
        asgi = make_api(metrics_auth=metrics_auth).build_starlette_app(worker, app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://t"
        ) as client:
            assert (await client.get("/metrics")).status_code == status
            # Only /metrics opens up; the API still needs a token.
            assert (await client.get("/api/v1/jobs")).status_code == 401

"""examples/fastapi_app: the endpoint writes a row and pushes a job in one transaction.

Driven with httpx against the ASGI app on the real Postgres. Each test gets a schema of
its own (through ``search_path``), so the example's fixed ``signup_users`` table and
chancy's tables are isolated and dropped with the schema.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from chancy import Chancy, Reference
from chancy.testing import random_prefix
from tests.embedded.helpers import worker_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_app"


@pytest.fixture
def api(dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``signups.api``, imported with CHANCY_DSN set (its settings module calls Chancy())."""
    monkeypatch.setenv("CHANCY_DSN", dsn)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import signups.api

    yield signups.api
    for name in [n for n in sys.modules if n == "signups" or n.startswith("signups.")]:
        del sys.modules[name]


@pytest.fixture
async def schema_dsn(dsn: str) -> AsyncIterator[str]:
    """The test DSN with a fresh schema first on the search_path; dropped afterwards."""
    schema = f"fastapi_{secrets.token_hex(4)}"
    engine = sa.create_engine(sa.make_url(dsn).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = sa.make_url(dsn)
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


async def signup(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/signups", json={"email": email})


async def counts(chancy: Chancy) -> tuple[int, int]:
    async with chancy.engine.connect() as conn:
        users = await conn.scalar(sa.text("SELECT count(*) FROM signup_users"))
        jobs = await conn.scalar(sa.select(sa.func.count(chancy.models.Job.id)))
    return int(users or 0), int(jobs or 0)


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_signup_commits_row_and_job_and_the_lifespan_worker_runs_it(
    api: ModuleType, schema_dsn: str
) -> None:
    chancy = Chancy(schema_dsn, prefix=random_prefix("fa"), no_default_plugins=True)
    app = api.create_app(chancy, run_worker=True)
    async with app.router.lifespan_context(app), client_for(app) as client:
        created = await signup(client, "ada@example.com")
        assert created.status_code == 201, created.text
        body = created.json()
        job = await chancy.wait_for_job(Reference(body["job_id"]), interval=0.1, timeout=60)
        assert job is not None and job.state == "succeeded"
        assert job.kwargs == {"user_id": body["user_id"], "email": "ada@example.com"}
        status = await client.get(f"/jobs/{body['job_id']}")
        assert status.json()["state"] == "succeeded"

        # A duplicate email fails the insert: the transaction rolls back, no job is queued.
        duplicate = await signup(client, "ada@example.com")
        assert duplicate.status_code == 409
        assert "already signed up" in duplicate.json()["detail"]
        assert await counts(chancy) == (1, 1)
        assert (await client.get("/jobs/00000000-0000-0000-0000-000000000000")).status_code in (
            404,
            422,
        )


async def test_a_separate_worker_process_runs_the_job(api: ModuleType, schema_dsn: str) -> None:
    """The other deployment: the web app without a worker, plus ``chancy ... worker start``."""
    prefix = random_prefix("fa")
    chancy = Chancy(schema_dsn, prefix=prefix)  # default plugins, as the worker's app has
    app = api.create_app(chancy, run_worker=False)
    env = {**os.environ, "CHANCY_DSN": schema_dsn, "CHANCY_PREFIX": prefix}
    async with app.router.lifespan_context(app), client_for(app) as client:
        created = await signup(client, "grace@example.com")
        assert created.status_code == 201, created.text
        ref = Reference(created.json()["job_id"])
        assert (await chancy.get_job(ref)).state == "pending"
        async with worker_cli("signups.settings:chancy", env=env, cwd=EXAMPLE) as output:
            job = await chancy.wait_for_job(ref, interval=0.2, timeout=90)
        assert job is not None and job.state == "succeeded", output

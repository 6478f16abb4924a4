"""The ASGI app mounted inside another app under ``/admin/jobs``, and the dashboard files."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from chancy import Chancy, Queue
from chancy.plugins.api import Api
from chancy.plugins.api.spa import DashboardFiles, with_base
from chancy.worker import Worker
from tests.api.conftest import login

pytestmark = pytest.mark.timeout(60)
PREFIX = "/admin/jobs"


async def home(request: object) -> PlainTextResponse:
    return PlainTextResponse("the host app")


def starlette_host(inner: Starlette) -> Starlette:
    return Starlette(routes=[Route("/", home), Mount(PREFIX, app=inner)])


def fastapi_host(inner: Starlette) -> object:
    fastapi = pytest.importorskip("fastapi")
    host = fastapi.FastAPI()
    host.add_api_route("/", lambda: PlainTextResponse("the host app"))
    host.mount(PREFIX, inner)
    return host


@pytest.mark.parametrize("make_host", [starlette_host, fastapi_host])
async def test_mounted_under_a_prefix(
    app: Chancy, worker: Worker, api: Api, make_host: object
) -> None:
    await app.declare(Queue("mounted"))
    host = make_host(api.build_starlette_app(worker, app))  # type: ignore[operator]
    transport = httpx.ASGITransport(app=host)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://host.test") as client:
        assert (await client.get("/")).text == "the host app"
        # The dashboard, with a base URL so its relative links stay under the mount.
        page = await client.get(f"{PREFIX}/")
        assert page.status_code == 200
        assert f'<base href="{PREFIX}/">' in page.text
        deep = await client.get(f"{PREFIX}/jobs/failed")
        assert f'<base href="{PREFIX}/">' in deep.text
        # Login and API calls through the mount.
        token = await login(client, PREFIX)
        client.headers["Authorization"] = f"Bearer {token}"
        queues = (await client.get(f"{PREFIX}/api/v1/queues")).json()
        assert [q["name"] for q in queues] == ["mounted"]
        paused = await client.post(f"{PREFIX}/api/v1/queues/mounted/pause")
        assert paused.json()["state"] == "paused"
        assert (await client.get(f"{PREFIX}/health")).json() == {"status": "healthy"}
        assert (await client.get(f"{PREFIX}/metrics")).status_code == 200
        missing = await client.get(f"{PREFIX}/api/v1/nope")
        assert missing.status_code == 404 and "error" in missing.json()
        # The host's own paths are not the dashboard's.
        assert (await client.get("/api/v1/queues")).status_code == 404
        # A URL relative to the base resolves into the mounted API.
        relative = page.url.join("api/v1/configuration")
        assert (await client.get(relative)).status_code == 200


async def test_dashboard_files(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><head><title>t</title></head></html>")
    (tmp_path / "app.js").write_text("console.log('hi')")
    (tmp_path.parent / "secret.txt").write_text("no")
    inner = Starlette(routes=DashboardFiles(tmp_path).routes())
    host = Starlette(routes=[Mount(PREFIX, app=inner)])
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(transport=transport, base_url="http://h") as client:
        script = await client.get(f"{PREFIX}/app.js")
        assert script.text == "console.log('hi')"
        assert "javascript" in script.headers["content-type"]
        for traversal in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
            assert (await client.get(PREFIX + traversal)).text != "no", traversal
        for path in ("/", "/index.html", "/queues/default"):
            page = await client.get(PREFIX + path)
            assert page.status_code == 200, path
            assert page.text.startswith('<html><head><base href="/admin/jobs/">'), path
        api = await client.get(f"{PREFIX}/api/v1/anything")
        assert api.status_code == 404 and api.headers["content-type"] == "application/json"


def test_with_base() -> None:
    assert with_base("<head></head>", "/x/") == '<head><base href="/x/"></head>'
    assert with_base('<HEAD lang="en">', "/") == '<HEAD lang="en"><base href="/">'
    kept = '<head><base href="/mine/"></head>'
    assert with_base(kept, "/x/") == kept
    assert with_base("<p>", '/"x/') == '<base href="/&quot;x/"><p>'


async def test_cors_for_allowed_origins(app: Chancy, worker: Worker) -> None:
    from tests.api.conftest import make_api

    asgi = make_api(allow_origins=["https://ops.example"]).build_starlette_app(worker, app)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        preflight = await client.options(
            "/api/v1/jobs",
            headers={
                "Origin": "https://ops.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://ops.example"
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_missing_table_is_explained(dsn: str, prefix: str) -> None:
    """An Api left out of the app's plugins has no table; the error says how to fix it."""
    from chancy.testing import isolated_chancy
    from tests.api.conftest import login, make_api

    api = make_api()
    async with isolated_chancy(dsn, prefix=prefix, no_default_plugins=True) as bare:
        worker = Worker(bare, register_signal_handlers=False)
        asgi = api.build_starlette_app(worker, bare)
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = await login(client)
            response = await client.get(
                "/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}
            )
        await worker.engine.dispose()
    assert response.status_code == 500
    assert "plugins=[...]" in response.json()["error"]


async def test_unreachable_database_is_503(worker: Worker) -> None:
    """An app whose database is down answers 503 (and /health still answers)."""
    from tests.api.conftest import make_api

    down = Chancy("postgresql://nobody@127.0.0.1:1/none", no_default_plugins=True)
    api = make_api()
    down.plugins[api.get_identifier()] = api
    transport = httpx.ASGITransport(app=api.build_starlette_app(worker, down))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/health")).status_code == 200
        token = await login(client)
        response = await client.get("/api/v1/queues", headers={"Authorization": f"Bearer {token}"})
    await down.__aexit__(None, None, None)
    assert response.status_code == 503
    assert "unreachable" in response.json()["error"]

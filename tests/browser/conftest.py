"""Fixtures of the browser tests: Debian's chromium driven by Playwright, and a real worker
serving the Api plugin (and so the dashboard) on a free port.

Playwright's own browser download cannot run here, so the tests launch the system
``chromium`` (``apt-get install -y chromium``; ``.ci/run`` installs it) and skip, saying
so, when it is missing. Every page a test opens fails the test on any console error or
uncaught page error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chancy import Chancy, Job, Queue
from chancy.worker import Worker
from tests.helpers import poll_until
from tests.prefix_pool import pooled_chancy

try:
    from playwright.async_api import async_playwright, expect

    from chancy.plugins.api import Api
    from chancy.plugins.api.auth import SimpleAuthBackend
    from chancy.plugins.cron import Cron
    from chancy.plugins.leadership import Leadership
    from chancy.plugins.metrics import Metrics
    from chancy.plugins.workflow import Workflow, WorkflowPlugin
except ImportError as exc:  # pragma: no cover - the dev extra installs all of these
    MISSING: str | None = f"{exc.name} is not installed: pip install -e '.[dev]'"
else:
    MISSING = None

USERNAME, PASSWORD = "admin", "correct horse battery staple"
JOBS = "tests.browser.browser_jobs"
ASYNC = Chancy.Executor.Async
#: Long enough for a loaded CI machine; only ever reached when something is broken.
TIMEOUT_MS = 30_000


if MISSING is None:
    # expect() waits 5 s by default, which a loaded CI machine can need more than.
    expect.set_options(timeout=TIMEOUT_MS)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHANCY_CHROMIUM"), "chromium", "/usr/bin/chromium"):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_for_port(port: int, timeout: float = 30) -> None:
    """Until something accepts connections on ``port`` (uvicorn listens once it started;
    polled: the server is another process)."""

    async def accepts() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True

    await poll_until(accepts, what=f"a server on port {port}", timeout=timeout, interval=0.05)


@pytest.fixture(scope="session")
def chromium() -> str:
    if MISSING:
        pytest.skip(MISSING)
    path = find_chromium()
    if path is None:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does "
            "it), so the dashboard's browser tests cannot run here."
        )
    return path


@dataclass
class Pages:
    """Opens pages that record console errors and uncaught exceptions, and screenshots."""

    browser: Any
    folder: Path
    problems: list[str] = field(default_factory=list)
    shots: dict[str, Path] = field(default_factory=dict)

    async def new(self, *, color_scheme: str = "light") -> Any:
        context = await self.browser.new_context(
            viewport={"width": 1280, "height": 860}, color_scheme=color_scheme
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on(
            "response",
            lambda r: (
                self.problems.append(f"HTTP {r.status} for {r.request.method} {r.url}")
                if r.status >= 400
                else None
            ),
        )
        return page

    async def shot(self, page: Any, name: str) -> Path:
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.shots[name] = path
        return path


@pytest.fixture
async def pages(chromium: str, tmp_path: Path) -> AsyncIterator[Pages]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        recorder = Pages(browser, tmp_path)
        try:
            yield recorder
        finally:
            await browser.close()
    assert not recorder.problems, "The browser reported errors:\n" + "\n".join(recorder.problems)


@dataclass
class Served:
    """A migrated app, its started worker, the Api plugin and the dashboard's URL."""

    chancy: Chancy
    worker: Worker
    api: Api
    url: str
    marker: Path
    failed_job: Any
    declined: list[Any]
    workflow_id: Any


ServeFn = Callable[[Chancy, Worker, Api], Awaitable[str]]


@contextlib.asynccontextmanager
async def serving(dsn: str, tmp_path: Path, serve: ServeFn | None = None) -> AsyncIterator[Served]:
    """A worker with the Api on a free port and some history to look at: a failed job,
    a finished workflow and a cron schedule. ``serve`` may serve the app elsewhere (e.g.
    mounted in another Starlette app) and return that URL instead."""
    port = free_port()
    api = Api(port=port, authentication_backend=SimpleAuthBackend({USERNAME: PASSWORD}))
    plugins = [
        Leadership(poll_interval=1, timeout=5),
        Metrics(sync_interval=1),
        WorkflowPlugin(),
        Cron(),
        api,
    ]
    async with pooled_chancy(dsn, plugins=plugins, no_default_plugins=True) as app:
        await app.declare(Queue("default", executor=ASYNC, concurrency=2, polling_interval=1))
        await app.declare(Queue("reports", executor=ASYNC, concurrency=1, polling_interval=1))
        worker = Worker(
            app,
            register_signal_handlers=False,
            heartbeat_poll_interval=1,
            queue_change_poll_interval=1,
            shutdown_timeout=2,
        )
        await worker.start()
        try:
            marker = tmp_path / "retry-may-succeed"
            failed = await app.push(
                Job(
                    func=f"{JOBS}.fail_until_marked",
                    kwargs={"marker": str(marker), "note": "<img src=x onerror=window.__xss=1>"},
                    max_attempts=1,
                )
            )
            declined = [
                await app.push(job)
                for job in [
                    Job(
                        func=f"{JOBS}.charge_card",
                        kwargs={"customer_id": 1040 + n, "amount": 19.5 * (n + 1)},
                        priority=n,
                    )
                    for n in range(3)
                ]
            ]
            workflow = Workflow("nightly-report")
            workflow.add("fetch", Job(func=f"{JOBS}.ok", queue="reports"))
            workflow.add_group(
                [
                    ("parse_a", Job(func=f"{JOBS}.ok", queue="reports")),
                    ("parse_b", Job(func=f"{JOBS}.ok", queue="reports")),
                ],
                dependencies=["fetch"],
            )
            workflow.add(
                "publish",
                Job(func=f"{JOBS}.ok", queue="reports"),
                dependencies=["parse_a", "parse_b"],
            )
            workflow_id = await WorkflowPlugin.push(app, workflow)
            await Cron.schedule(
                app, "0 3 * * *", Job(func=f"{JOBS}.ok", queue="reports", unique_key="nightly")
            )
            await app.wait_for_jobs([failed, *declined], interval=0.1, timeout=60)
            await WorkflowPlugin.wait_for_workflow(app, workflow_id, interval=0.1, timeout=60)
            await wait_for_port(port)
            url = await serve(app, worker, api) if serve else f"http://127.0.0.1:{port}/"
            yield Served(app, worker, api, url, marker, failed, declined, workflow_id)
        finally:
            await worker.stop()


@pytest.fixture
async def dashboard(dsn: str, tmp_path: Path) -> AsyncIterator[Served]:
    """The dashboard served at "/" by the Api plugin running in the worker."""
    async with serving(dsn, tmp_path) as served:
        yield served


@pytest.fixture
async def mounted_dashboard(dsn: str, tmp_path: Path) -> AsyncIterator[Served]:
    """The app of ``Api.build_starlette_app`` mounted at /admin/jobs in a host Starlette app
    (as a FastAPI or Starlette user would), served by its own uvicorn."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Mount, Route

    servers: list[tuple[Any, asyncio.Task[None]]] = []

    async def serve(app: Chancy, worker: Worker, api: Api) -> str:
        async def home(request: Any) -> HTMLResponse:
            # A page of its own (with an inline icon, so the browser asks for no favicon).
            return HTMLResponse(
                '<html><head><link rel="icon" href="data:,"></head>'
                "<body>the host application</body></html>"
            )

        host = Starlette(
            routes=[
                Route("/", home),
                Mount("/admin/jobs", app=api.build_starlette_app(worker, app)),
            ]
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(host, host="127.0.0.1", port=port, log_level="error", lifespan="off")
        )
        servers.append((server, asyncio.create_task(server.serve())))
        await wait_for_port(port)
        return f"http://127.0.0.1:{port}/admin/jobs/"

    try:
        async with serving(dsn, tmp_path, serve) as served:
            yield served
    finally:
        for server, task in servers:
            server.should_exit = True
            await task

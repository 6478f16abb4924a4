"""The dashboard in a real browser against a real worker: log in, find a failed job and
its traceback, retry it, pause and resume a queue, look at a workflow's DAG; at "/" and
mounted under /admin/jobs in another Starlette app. Screenshots of every page land in
the test's temporary folder (and, with CHANCY_SCREENSHOTS=<dir>, the README's two there).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

expect = pytest.importorskip("playwright.async_api", reason="playwright is in the dev extra").expect

from tests.browser.clickthrough import click_through, log_in  # noqa: E402
from tests.browser.conftest import Pages, Served  # noqa: E402


def export_screenshots(pages: Pages, names: dict[str, str]) -> None:
    """Copy chosen screenshots to $CHANCY_SCREENSHOTS (how docs/img is refreshed)."""
    target = os.environ.get("CHANCY_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for shot, filename in names.items():
        shutil.copyfile(pages.shots[shot], Path(target) / filename)


async def test_click_through_at_root(dashboard: Served, pages: Pages) -> None:
    page = await pages.new()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await click_through(page, pages, dashboard)
    assert len(pages.shots) >= 12
    # Nothing is fetched from anywhere but the app itself (no CDN, no fonts).
    foreign = [
        u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:"))
    ]
    assert foreign == []
    export_screenshots(
        pages, {"jobs-failed": "dashboard-jobs.png", "job-failed": "dashboard-job.png"}
    )


async def test_click_through_mounted_under_a_prefix(
    mounted_dashboard: Served, pages: Pages
) -> None:
    page = await pages.new()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    assert mounted_dashboard.url.endswith("/admin/jobs/")
    await click_through(page, pages, mounted_dashboard)
    # Every request of the dashboard stayed under the mount.
    app_requests = [u for u in requests if not u.startswith("data:")]
    prefix = mounted_dashboard.url.replace("http://", "").split("/", 1)[0]
    assert all(f"{prefix}/admin/jobs/" in u for u in app_requests), app_requests
    # The host app's own routes are untouched, and the mount without its slash still works.
    await page.goto(mounted_dashboard.url.removesuffix("admin/jobs/"))
    await expect(page.locator("body")).to_have_text("the host application")
    await page.goto(mounted_dashboard.url.rstrip("/"))
    await expect(page.locator("tr[data-job-id], p.empty").first).to_be_visible()


async def test_themes_follow_the_system_and_the_toggle(dashboard: Served, pages: Pages) -> None:
    page = await pages.new(color_scheme="dark")

    async def background() -> Any:
        return await page.evaluate("getComputedStyle(document.body).backgroundColor")

    await log_in(page, pages, dashboard.url)
    dark = await background()
    await page.click("#theme-toggle")  # auto -> light
    await expect(page.locator("html")).to_have_attribute("data-theme", "light")
    light = await background()
    await pages.shot(page, "jobs-light")
    await page.click("#theme-toggle")  # light -> dark
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert await background() == dark
    await pages.shot(page, "jobs-dark")
    assert dark != light

    def brightness(rgb: str) -> int:
        return sum(int(x) for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])

    assert brightness(dark) < 150 < brightness(light)
    # The choice survives a reload; the busiest pages, in the dark.
    await page.reload()
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await page.click("a[data-state=failed]")
    await page.click(f"tr[data-job-id='{dashboard.failed_job.identifier}'] a.func")
    await expect(page.locator("details.error[open] pre.traceback")).to_be_visible()
    await pages.shot(page, "job-dark")
    await page.goto(f"{dashboard.url}#/workflows/{dashboard.workflow_id}")
    await expect(page.locator("svg.dag g.dag-node")).to_have_count(4)
    await pages.shot(page, "workflow-dark")
    await page.goto(f"{dashboard.url}#/queues/default")
    await expect(page.locator("svg.chart").first).to_be_visible()
    await pages.shot(page, "queue-dark")


async def test_logged_out_visitors_see_the_login_page(dashboard: Served, pages: Pages) -> None:
    page = await pages.new()
    await page.goto(dashboard.url + "#/queues")
    await expect(page.locator("form.login-form")).to_be_visible()
    await log_in(page, pages, dashboard.url)
    await page.click("button[data-nav=logout]")
    await expect(page.locator("form.login-form")).to_be_visible()
    await page.goto(dashboard.url + "#/jobs/failed")
    await expect(page.locator("form.login-form")).to_be_visible()

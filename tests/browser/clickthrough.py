"""The operator's walk through the dashboard, shared by the tests at "/" and under a prefix.

Each step acts through the page only (clicks and typing) and checks the outcome both on
the page and, where it changes state, in the database.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from chancy import Job, Queue
from tests.browser.conftest import ASYNC, JOBS, PASSWORD, USERNAME, Pages, Served


async def log_in(page: Any, pages: Pages, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("form.login-form")).to_be_visible()
    await pages.shot(page, "login")
    await page.fill("input[name=username]", USERNAME)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.login-form button[type=submit]")
    await expect(page.locator(".tabs a.active")).to_have_text("pending")
    await pages.shot(page, "jobs-pending")


async def open_failed_job(page: Any, pages: Pages, served: Served) -> None:
    """Failed tab -> the job's row -> its detail with the traceback of the failure."""
    job_id = str(served.failed_job.identifier)
    await page.click("a[data-state=failed]")
    row = page.locator(f"tr[data-job-id='{job_id}']")
    await expect(row).to_be_visible()
    await expect(row.locator(".badge")).to_have_text("failed")
    await pages.shot(page, "jobs-failed")
    # Search by function narrows the list as you type; clearing it brings the rest back.
    rows = page.locator("tr[data-job-id]")
    await expect(rows).to_have_count(4)
    await page.fill("input[name=func]", "charge_card")
    await expect(rows).to_have_count(3)
    await expect(row).to_have_count(0)
    await page.fill("input[name=func]", "")
    await expect(rows).to_have_count(4)
    await row.locator("a.func").click()
    overview = page.locator("[data-testid=job-overview]")
    await expect(overview).to_contain_text(job_id)
    await expect(overview.locator(".badge")).to_have_text("failed")
    traceback = page.locator("details.error[open] pre.traceback")
    await expect(traceback).to_contain_text("RuntimeError: marker")
    await expect(traceback).to_contain_text("Traceback (most recent call last)")
    # Job data is shown as text, never parsed as HTML.
    await expect(page.locator("pre.kwargs")).to_contain_text("<img src=x onerror=window.__xss=1>")
    assert await page.evaluate("window.__xss") is None
    await pages.shot(page, "job-failed")


async def retry_job(page: Any, pages: Pages, served: Served) -> None:
    """Retry from the job's page; the page follows the job until it has succeeded."""
    served.marker.touch()
    await page.click("button[data-action=retry]")
    overview = page.locator("[data-testid=job-overview]")
    await expect(overview.locator(".badge")).to_have_text("succeeded")
    job = await served.chancy.get_job(served.failed_job)
    assert job is not None and job.state == "succeeded"
    await pages.shot(page, "job-succeeded")


async def pause_and_resume_queue(page: Any, pages: Pages, served: Served) -> None:
    await page.click("a[data-nav=queues]")
    row = page.locator("tr[data-queue=default]")
    await expect(row.locator(".badge").first).to_have_text("active")
    await pages.shot(page, "queues")
    await row.locator("a.queue-name").click()
    settings = page.locator("[data-testid=queue-settings]")
    await expect(settings).to_contain_text("AsyncExecutor")
    await page.click("button[data-action=pause]")
    await expect(page.locator("button[data-action=resume]")).to_be_visible()
    await expect(settings.locator(".badge").first).to_have_text("paused")
    queue = await served.chancy.get_queue("default")
    assert queue.state == Queue.State.PAUSED
    await pages.shot(page, "queue-paused")
    await page.click("button[data-action=resume]")
    await expect(page.locator("button[data-action=pause]")).to_be_visible()
    await expect(settings.locator(".badge").first).to_have_text("active")
    queue = await served.chancy.get_queue("default")
    assert queue.state == Queue.State.ACTIVE
    # The edit form sends only what changed.
    form = page.locator("[data-testid=edit-queue]")
    await form.locator("input[name=concurrency]").fill("3")
    await form.locator("input[name=tags]").fill(".*, gpu")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#flash")).to_contain_text("Queue default updated.")
    await expect(settings).to_contain_text("gpu")
    queue = await served.chancy.get_queue("default")
    assert (queue.concurrency, queue.tags, queue.executor) == (3, {".*", "gpu"}, ASYNC)


async def open_workflow(page: Any, pages: Pages, served: Served) -> None:
    await page.click("a[data-nav=workflows]")
    row = page.locator(f"tr[data-workflow='{served.workflow_id}']")
    await expect(row.locator(".badge")).to_have_text("completed")
    await pages.shot(page, "workflows")
    await row.locator("a.workflow-name").click()
    dag = page.locator("svg.dag")
    await expect(dag).to_be_visible()
    await expect(dag.locator("g.dag-node")).to_have_count(4)
    await expect(dag.locator("g.dag-node.state-succeeded")).to_have_count(4)
    # fetch -> parse_a, fetch -> parse_b, parse_a -> publish, parse_b -> publish
    await expect(dag.locator("path.dag-edge")).to_have_count(4)
    await expect(dag.locator("path.dag-edge[data-from=fetch][data-to=parse_a]")).to_have_count(1)
    await expect(page.locator("tr[data-step=publish] .badge")).to_have_text("succeeded")
    await pages.shot(page, "workflow")


async def visit_other_pages(page: Any, pages: Pages, served: Served) -> None:
    """Workers (with the leader badge), crons, metrics and the live event stream."""
    await page.click("a[data-nav=workers]")
    await expect(page.locator("tr[data-worker] .badge-leader")).to_have_text("Leader")
    await pages.shot(page, "workers")
    await page.click("a[data-nav=crons]")
    row = page.locator("tr[data-cron=nightly]")
    await expect(row).to_contain_text("0 3 * * *")
    await pages.shot(page, "crons")
    await page.click("a[data-nav=metrics]")
    await expect(page.locator("a.active[data-metric='global:status']")).to_be_visible()
    await expect(page.locator(".metric[data-metric-key='global:status:succeeded']")).to_be_visible()
    await page.click("a[data-metric='queue:default']")
    throughput = page.locator(".metric[data-metric-key='queue:default:throughput']")
    await expect(throughput.locator("svg.chart rect.bar").first).to_be_attached()
    await page.select_option("select.resolution", "1min")
    await expect(throughput.locator("svg.chart rect.bar").first).to_be_attached()
    await pages.shot(page, "metrics")
    await page.click("a[data-nav=events]")
    await expect(page.locator("[data-testid=ws-status]")).to_have_text("live")
    await expect(page.locator("tr[data-event='chancy.connected']")).to_have_count(1)
    # A job pushed now shows up as it happens.
    await served.chancy.push(Job(func=f"{JOBS}.ok", queue="reports"))
    await expect(page.locator("tr[data-event]").nth(1)).to_be_visible()
    await pages.shot(page, "events")
    await page.click("a[data-nav=system]")
    await expect(page.locator("[data-testid=system-versions]")).to_contain_text("PostgreSQL")
    await expect(page.locator("tr[data-plugin='chancy.api']")).to_be_visible()
    await pages.shot(page, "system")


async def delete_in_a_batch(page: Any, pages: Pages, served: Served) -> None:
    """Select the declined charges on the failed tab and delete them together."""
    await page.click("a[data-nav=jobs]")
    await page.click("a[data-state=failed]")
    rows = page.locator("tr[data-job-id]")
    await expect(rows).to_have_count(3)  # the retried job has succeeded meanwhile
    for ref in served.declined:
        await page.check(f"tr[data-job-id='{ref.identifier}'] input[type=checkbox]")
    await page.click(".batch-actions button[data-action=purge]")
    await expect(rows).to_have_count(0)
    await expect(page.locator("#flash")).to_contain_text("3 of 3")
    for ref in served.declined:
        assert await served.chancy.get_job(ref) is None


async def click_through(page: Any, pages: Pages, served: Served) -> None:
    await log_in(page, pages, served.url)
    await open_failed_job(page, pages, served)
    await retry_job(page, pages, served)
    await pause_and_resume_queue(page, pages, served)
    await open_workflow(page, pages, served)
    await visit_other_pages(page, pages, served)
    await delete_in_a_batch(page, pages, served)

"""The admin pages over chancy's tables, and the retry and cancel actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from chancy.contrib.django.app import run_with_chancy
from chancy.contrib.django.models import Job, Queue, Worker
from chancy.job import Job as ChancyJob

pytestmark = pytest.mark.django_db(transaction=True)


def noop() -> None:
    pass


def push(**fields: Any) -> str:
    job = ChancyJob.from_func(noop, queue="admin-q", **fields)
    return str(run_with_chancy(lambda app: app.push(job)).identifier)


def test_job_list_search_and_detail(admin_client: Any) -> None:
    job_id = push()
    url = reverse("admin:chancy_job_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    assert job_id in page.content.decode()
    assert job_id in admin_client.get(url, {"q": "admin-q"}).content.decode()
    assert job_id not in admin_client.get(url, {"q": "no-such-func"}).content.decode()
    detail = admin_client.get(reverse("admin:chancy_job_change", args=[job_id]))
    assert detail.status_code == 200
    assert "test_admin.noop" in detail.content.decode()


def test_retry_and_cancel_actions(admin_client: Any) -> None:
    failed, pending = push(), push()
    Job.objects.filter(pk=failed).update(state="failed", attempts=1)
    url = reverse("admin:chancy_job_changelist")

    response = admin_client.post(
        url, {"action": "retry_jobs", "_selected_action": [failed]}, follow=True
    )
    assert response.status_code == 200
    row = Job.objects.get(pk=failed)
    assert (row.state, row.attempts) == ("retrying", 0)

    admin_client.post(url, {"action": "cancel_jobs", "_selected_action": [pending]})
    assert Job.objects.get(pk=pending).state == "failed"


def test_queue_list_search_and_filter(admin_client: Any) -> None:
    Queue.objects.create(name="alpha", state="active")
    Queue.objects.create(name="beta", state="paused")
    url = reverse("admin:chancy_queue_changelist")
    assert "alpha" in admin_client.get(url, {"q": "alp"}).content.decode()
    paused = admin_client.get(url, {"state__exact": "paused"}).content.decode()
    assert "beta" in paused and "alpha" not in paused


def test_workers_are_read_only(admin_client: Any) -> None:
    assert admin_client.get(reverse("admin:chancy_worker_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:chancy_worker_add")).status_code == 403
    assert not Worker.objects.exists()

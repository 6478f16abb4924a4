"""ChancyBackend: Django 6 Tasks enqueued as chancy jobs, run by a chancy worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone
from shop.models import Order
from shop.tasks import add, report_attempt, send_receipt

from chancy.contrib.django.backend import ASYNC_WRAPPER, WRAPPER
from chancy.contrib.django.models import Job
from tests.django_suite.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_stores_the_call_faithfully() -> None:
    order = Order.objects.create(email="ada@example.com")
    result = send_receipt.enqueue(order.pk, note="hi")
    assert result.status == TaskResultStatus.READY
    assert result.args == [order.pk] and result.kwargs == {"note": "hi"}
    row = Job.objects.get(pk=result.id)
    assert (row.func, row.queue, row.priority) == (WRAPPER, "mail", 10)
    assert row.kwargs == {
        "_task_path": "shop.tasks.send_receipt",
        "_args": [order.pk],
        "_kwargs": {"note": "hi"},
        "_takes_context": False,
    }
    assert Job.objects.get(pk=add.enqueue(1, 2).id).func == ASYNC_WRAPPER


def test_run_after_and_default_queue() -> None:
    later = timezone.now() + dt.timedelta(hours=1)
    result = report_attempt.using(run_after=later, priority=-5).enqueue("x")
    row = Job.objects.get(pk=result.id)
    assert row.scheduled_at == later
    assert (row.queue, row.priority) == ("default", -5)


def test_a_worker_runs_tasks_and_results_come_back(worker: Any) -> None:
    order = Order.objects.create(email="ada@example.com")
    receipt = send_receipt.enqueue(order.pk, note="thanks")
    total = add.enqueue(2, 3)
    context = report_attempt.enqueue("ctx")
    for result in (receipt, total, context):
        wait_for(result.id)

    receipt.refresh()
    assert receipt.status == TaskResultStatus.SUCCESSFUL
    assert receipt.return_value == {"order": order.pk, "email": "ada@example.com", "note": "thanks"}
    assert Order.objects.get(pk=order.pk).receipt_sent
    assert receipt.finished_at is not None and receipt.started_at is not None

    fetched = add.get_result(total.id)
    assert (fetched.status, fetched.return_value) == (TaskResultStatus.SUCCESSFUL, 5)

    ctx = task_backends["default"].get_result(context.id)
    assert ctx.return_value == {"label": "ctx", "attempt": 1, "id": context.id}


def test_a_failing_task_reports_its_error(worker: Any) -> None:
    result = send_receipt.enqueue(987654321)  # no such order
    wait_for(result.id)
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    (error,) = result.errors
    assert error.exception_class_path.endswith("DoesNotExist")
    assert "matching query does not exist" in error.traceback
    with pytest.raises(ValueError):
        result.return_value  # noqa: B018


def test_enqueue_commits_with_the_atomic_block() -> None:
    with transaction.atomic():
        order = Order.objects.create(email="ada@example.com")
        result = send_receipt.enqueue(order.pk)
    assert Job.objects.filter(pk=result.id).exists()
    assert send_receipt.get_result(result.id).status == TaskResultStatus.READY


def test_enqueue_rolls_back_with_the_atomic_block() -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        result = send_receipt.enqueue(1)
        assert Job.objects.filter(pk=result.id).exists()  # visible inside the block
        raise Abort
    assert not Job.objects.filter(pk=result.id).exists()
    with pytest.raises(TaskResultDoesNotExist):
        send_receipt.get_result(result.id)


def test_unknown_result_ids() -> None:
    backend = task_backends["default"]
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(TaskResultDoesNotExist):
            backend.get_result(bad)


def test_the_example_view_commits_order_and_task_together(client: Any) -> None:
    response = client.post("/orders/", {"email": "bob@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert Order.objects.filter(pk=body["order"]).exists()
    assert Job.objects.get(pk=body["task"]).kwargs["_args"] == [body["order"]]

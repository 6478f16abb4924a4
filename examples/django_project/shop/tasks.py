"""Django Tasks run by chancy workers."""

from __future__ import annotations

from django.tasks import task

from shop.models import Order


@task(queue_name="mail", priority=10)
def send_receipt(order_id: int, *, note: str = "") -> dict:
    order = Order.objects.get(pk=order_id)
    order.receipt_sent = True
    order.save(update_fields=["receipt_sent"])
    return {"order": order.pk, "email": order.email, "note": note}


@task(takes_context=True)
def report_attempt(context, label: str) -> dict:
    return {"label": label, "attempt": context.attempt, "id": context.task_result.id}


@task()
async def add(a: int, b: int) -> int:
    return a + b
